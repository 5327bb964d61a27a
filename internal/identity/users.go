package identity

import (
	"context"
	"fmt"
	"strings"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// NewUser is a user to create: username, email and password are required.
// GroupID 0 means the caller's group (the default group for the master key).
type NewUser struct {
	Username string
	Email    string
	Password string
	FullName string
	Role     Role // default USER
	GroupID  int64
}

// UserPatch changes the fields that are set.
type UserPatch struct {
	Username *string
	Email    *string
	Password *string
	FullName *string
	Role     *Role
	GroupID  *int64
	IsActive *bool
}

// selfOnly reports whether the patch touches only what users may change on
// their own account.
func (p UserPatch) selfOnly() bool {
	return p.Role == nil && p.GroupID == nil && p.IsActive == nil && p.Username == nil
}

func userResource(u *User) authz.Resource { return authz.Resource{GroupID: u.GroupID} }

// CreateUser creates a user in the caller's group (or, for super principals,
// the given group). A GROUP_ADMIN cannot create a SUPER_ADMIN or place a user
// in another group.
func (s *Service) CreateUser(ctx context.Context, p *authz.Principal, src audit.Source, in NewUser) (*User, error) {
	if in.Role == "" {
		in.Role = RoleUser
	}
	if in.GroupID == 0 {
		in.GroupID = p.GroupID
	}
	var err error
	if in.GroupID, err = s.groupOrDefault(ctx, in.GroupID); err != nil {
		return nil, err
	}
	if err := authz.Allow(p, "users:write", authz.Resource{GroupID: in.GroupID}); err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, fault.New(fault.Forbidden, "you cannot create users in another group")
		}
		return nil, err
	}
	in.Username = strings.TrimSpace(in.Username)
	if err := ValidateUsername(in.Username); err != nil {
		return nil, err
	}
	if in.Email == "" {
		return nil, required("email")
	}
	if err := ValidateEmail(in.Email); err != nil {
		return nil, err
	}
	if err := ValidateFullName(in.FullName); err != nil {
		return nil, err
	}
	if err := ValidatePassword(in.Password); err != nil {
		return nil, err
	}
	if err := mayGrant(p, in.Role); err != nil {
		return nil, err
	}
	hash, err := HashPassword(in.Password, s.params)
	if err != nil {
		return nil, err
	}
	u := &User{Username: in.Username, Email: in.Email, FullName: in.FullName, Role: in.Role, GroupID: in.GroupID, PasswordHash: hash, IsActive: true}
	err = s.store.InTx(ctx, func(tx Tx) error {
		g, err := tx.GroupByID(ctx, in.GroupID)
		if err != nil {
			return fault.New(fault.Invalid, "group does not exist").WithDetails(field("group_id"))
		}
		u.GroupName = g.Name
		if err := tx.CreateUser(ctx, u); err != nil {
			if fault.Is(err, fault.Conflict) {
				return s.userConflict(ctx, u.Username)
			}
			return err
		}
		return audit.Record(ctx, tx, src, u.GroupID, "user.create", userTarget(u.ID), map[string]any{"username": u.Username, "role": u.Role})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "user", "created", u.GroupID, fmt.Sprint(u.ID))
	return u, nil
}

// mayGrant checks that p may give a user role r.
func mayGrant(p *authz.Principal, r Role) error {
	if !r.Valid() {
		return fault.Errorf(fault.Invalid, "role must be one of USER, GROUP_ADMIN, SUPER_ADMIN").WithDetails(field("role"))
	}
	if r == SuperAdmin && !p.IsSuper() {
		return fault.New(fault.Forbidden, "only a SUPER_ADMIN can grant SUPER_ADMIN")
	}
	return nil
}

// GetUser returns a user the caller may see (own group; super: any).
func (s *Service) GetUser(ctx context.Context, p *authz.Principal, id int64) (*User, error) {
	u, err := s.store.Read().UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if id == p.UserID && p.Kind == authz.KindUser {
		return u, nil
	}
	if err := authz.Allow(p, "users:read", userResource(u)); err != nil {
		return nil, hide(err, "user not found")
	}
	return u, nil
}

// GetUserByName is GetUser by username or email.
func (s *Service) GetUserByName(ctx context.Context, p *authz.Principal, name string) (*User, error) {
	u, err := s.store.Read().UserByLogin(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.GetUser(ctx, p, u.ID)
}

// ListUsers returns the users the caller may see.
func (s *Service) ListUsers(ctx context.Context, p *authz.Principal) ([]*User, error) {
	if err := authz.Allow(p, "users:read", authz.Any); err != nil {
		return nil, err
	}
	return s.store.Read().ListUsers(ctx, p.GroupScope())
}

// ListUsersAsAdmin is ListUsers for administration consoles (GateKey's admin
// API): a USER is refused (forbidden) although it may read its group's users
// elsewhere.
func (s *Service) ListUsersAsAdmin(ctx context.Context, p *authz.Principal) ([]*User, error) {
	if err := authz.Allow(p, authz.Administer, authz.Any); err != nil {
		return nil, err
	}
	return s.ListUsers(ctx, p)
}

// GetUserAsAdmin is GetUser for administration consoles: a USER is refused
// (forbidden), even for itself; another group's user is not found.
func (s *Service) GetUserAsAdmin(ctx context.Context, p *authz.Principal, id int64) (*User, error) {
	if err := authz.Allow(p, authz.Administer, authz.Any); err != nil {
		return nil, err
	}
	return s.GetUser(ctx, p, id)
}

// UpdateUser applies patch. Users may change their own name, email and
// password; anything else needs users:write over the user's group. Role,
// group, activity and password changes end the user's sessions.
func (s *Service) UpdateUser(ctx context.Context, p *authz.Principal, src audit.Source, id int64, patch UserPatch) (*User, error) {
	var (
		u       *User
		revoked []string
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if u, err = tx.UserByID(ctx, id); err != nil {
			return err
		}
		self := p.Kind == authz.KindUser && p.UserID == id
		if !(self && patch.selfOnly()) {
			if err := authz.Allow(p, "users:write", userResource(u)); err != nil {
				return hide(err, "user not found")
			}
		}
		// A SUPER_ADMIN's account (password, email, activity, ...) is changed
		// only by itself or another super principal, never by a GROUP_ADMIN
		// who happens to share its group.
		if u.Role == SuperAdmin && !self && !p.IsSuper() {
			return fault.New(fault.Forbidden, "only a SUPER_ADMIN can change a SUPER_ADMIN")
		}
		changed := map[string]any{}
		endSessions := false
		if patch.Username != nil {
			name := strings.TrimSpace(*patch.Username)
			if err := ValidateUsername(name); err != nil {
				return err
			}
			u.Username, changed["username"] = name, name
		}
		if patch.Email != nil {
			if *patch.Email != "" {
				if err := ValidateEmail(*patch.Email); err != nil {
					return err
				}
			}
			u.Email, changed["email"] = *patch.Email, *patch.Email
		}
		if patch.FullName != nil {
			if err := ValidateFullName(*patch.FullName); err != nil {
				return err
			}
			u.FullName, changed["full_name"] = *patch.FullName, *patch.FullName
		}
		if patch.Password != nil {
			if err := ValidatePassword(*patch.Password); err != nil {
				return err
			}
			if u.PasswordHash, err = HashPassword(*patch.Password, s.params); err != nil {
				return err
			}
			changed["password"], endSessions = "changed", true
		}
		if patch.Role != nil && *patch.Role != u.Role {
			if err := mayGrant(p, *patch.Role); err != nil {
				return err
			}
			if err := s.keepOneSuperAdmin(ctx, tx, u); err != nil {
				return err
			}
			u.Role, changed["role"], endSessions = *patch.Role, *patch.Role, true
		}
		if patch.GroupID != nil && *patch.GroupID != u.GroupID {
			if !p.IsSuper() {
				return fault.New(fault.Forbidden, "only a SUPER_ADMIN can move a user to another group")
			}
			g, err := tx.GroupByID(ctx, *patch.GroupID)
			if err != nil {
				return fault.New(fault.Invalid, "group does not exist").WithDetails(field("group_id"))
			}
			u.GroupID, u.GroupName, changed["group_id"], endSessions = g.ID, g.Name, g.ID, true
		}
		if patch.IsActive != nil && *patch.IsActive != u.IsActive {
			if !*patch.IsActive {
				if err := s.keepOneSuperAdmin(ctx, tx, u); err != nil {
					return err
				}
				endSessions = true
			}
			u.IsActive, changed["is_active"] = *patch.IsActive, *patch.IsActive
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			if fault.Is(err, fault.Conflict) {
				if patch.Username != nil {
					if other, err := s.store.Read().UserByLogin(ctx, u.Username); err == nil && other.ID != u.ID && strings.EqualFold(other.Username, u.Username) {
						return s.userConflict(ctx, u.Username)
					}
				}
				return fault.New(fault.Conflict, "a user with this email already exists").WithReason(ReasonUserExists).WithDetails(field("email"))
			}
			return err
		}
		if endSessions {
			if revoked, err = tx.RevokeUserSessions(ctx, u.ID, "account changed", s.now()); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, src, u.GroupID, "user.update", userTarget(u.ID), changed)
	})
	if err != nil {
		return nil, err
	}
	s.afterUserChange(ctx, u, "updated", revoked)
	return u, nil
}

// DeleteUser removes a user (and, by cascade, its sessions). The last active
// SUPER_ADMIN cannot be deleted.
func (s *Service) DeleteUser(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error {
	var (
		u       *User
		revoked []string
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if u, err = tx.UserByID(ctx, id); err != nil {
			return err
		}
		if err := authz.Allow(p, "users:write", userResource(u)); err != nil {
			return hide(err, "user not found")
		}
		if u.Role == SuperAdmin && !p.IsSuper() {
			return fault.New(fault.Forbidden, "only a SUPER_ADMIN can delete a SUPER_ADMIN")
		}
		if err := s.keepOneSuperAdmin(ctx, tx, u); err != nil {
			return err
		}
		if revoked, err = tx.RevokeUserSessions(ctx, u.ID, "user deleted", s.now()); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, u.GroupID, "user.delete", userTarget(u.ID), map[string]any{"username": u.Username})
	})
	if err != nil {
		return err
	}
	s.afterUserChange(ctx, u, "deleted", revoked)
	return nil
}

func (s *Service) afterUserChange(ctx context.Context, u *User, action string, revoked []string) {
	s.dir.forgetUser(u.ID)
	for _, sid := range revoked {
		s.dir.markRevoked(sid)
		s.publish(ctx, "session", "revoked", u.GroupID, sid)
	}
	s.publish(ctx, "user", action, u.GroupID, fmt.Sprint(u.ID))
}

// keepOneSuperAdmin refuses to demote, disable or delete the last active
// SUPER_ADMIN, which would leave nobody able to administer the server.
func (s *Service) keepOneSuperAdmin(ctx context.Context, tx Tx, u *User) error {
	if u.Role != SuperAdmin || !u.IsActive {
		return nil
	}
	all, err := tx.ListUsers(ctx, 0)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.ID != u.ID && o.Role == SuperAdmin && o.IsActive {
			return nil
		}
	}
	return fault.New(fault.Conflict, "this is the last active SUPER_ADMIN")
}

// hide turns "another group's object" into not_found with msg; other
// errors pass through.
func hide(err error, msg string) error {
	if fault.Is(err, fault.NotFound) {
		return fault.New(fault.NotFound, msg)
	}
	return err
}
