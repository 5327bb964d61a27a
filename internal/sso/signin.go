package sso

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// Reasons of sign-in refusals.
const (
	ReasonDomainNotAllowed fault.Reason = "sso_domain_not_allowed"
	ReasonNotProvisioned   fault.Reason = "sso_user_not_provisioned"
	ReasonAccountDisabled  fault.Reason = "account_disabled"
)

// profile is what a provider's mapping makes of an assertion.
type profile struct {
	username, email, name string
	groupID               int64
	role                  identity.Role
}

// first returns the first value of claim, or "".
func first(a Assertion, claim string) string {
	if v := a.Claims[claim]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// mapProfile applies the provider's claim and group mappings.
func mapProfile(ctx context.Context, tx Tx, pr *Provider, a Assertion) (*profile, error) {
	st := pr.Settings
	pf := &profile{email: strings.ToLower(first(a, st.EmailClaim)), name: first(a, st.NameClaim),
		groupID: pr.GroupID, role: identity.RoleUser}
	pf.username = first(a, st.UsernameClaim)
	if pf.username == "" {
		pf.username, _, _ = strings.Cut(pf.email, "@")
	}
	if pf.username == "" {
		pf.username = a.Subject
	}
	if len(st.AllowedDomains) > 0 {
		_, domain, ok := strings.Cut(pf.email, "@")
		if !ok || !slices.Contains(st.AllowedDomains, domain) {
			return nil, fault.New(fault.Forbidden, "your email domain may not sign in here").WithReason(ReasonDomainNotAllowed)
		}
	}
	groups := a.Claims[st.GroupsClaim]
	for _, m := range st.GroupMappings {
		if st.GroupsClaim == "" || !slices.Contains(groups, m.Claim) {
			continue
		}
		if m.Group != "" {
			g, err := tx.GroupByName(ctx, m.Group)
			if err != nil {
				return nil, fmt.Errorf("provider %s maps to group %q: %w", pr.Name, m.Group, err)
			}
			pf.groupID = g.ID
		}
		pf.role = m.Role
		break
	}
	return pf, nil
}

// SignIn turns a provider's verified assertion into a netkeep session: the
// user linked to the provider's subject, or one provisioned just in time
// (or, with NoProvisioning, a user an administrator created with the same
// email). A linked user's group and role follow the group mappings when the
// provider sends groups. Disabled users are refused whatever the provider
// says. Errors: not_found (provider), forbidden (domain not allowed, not
// provisioned), unauthorized (account disabled), conflict (the username or
// email belongs to a local account).
func (s *Service) SignIn(ctx context.Context, src audit.Source, providerName string, a Assertion) (*identity.LoginResult, error) {
	if a.Subject == "" {
		return nil, fault.New(fault.Unauthorized, "the identity provider sent no subject")
	}
	var (
		userID  int64
		kind    Kind
		created *identity.User
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		pr, err := tx.SSOProviderByName(ctx, providerName)
		if err != nil {
			return err
		}
		kind = pr.Kind
		pf, err := mapProfile(ctx, tx, pr, a)
		if err != nil {
			return err
		}
		src.Actor = "sso:" + pr.Name
		userID, err = tx.SSOLinkedUser(ctx, pr.ID, a.Subject)
		switch {
		case err == nil:
			return s.refreshLinked(ctx, tx, src, pr, userID, pf, a)
		case !fault.Is(err, fault.NotFound):
			return err
		}
		if pr.Settings.NoProvisioning {
			u, err := tx.UserByLogin(ctx, pf.email)
			if pf.email == "" || err != nil || !strings.EqualFold(u.Email, pf.email) {
				return fault.New(fault.Forbidden, "no account exists for you here; ask an administrator").WithReason(ReasonNotProvisioned)
			}
			userID = u.ID
			if err := tx.CreateSSOLink(ctx, pr.ID, a.Subject, u.ID, s.now().UTC()); err != nil {
				return err
			}
			return audit.Record(ctx, tx, src, u.GroupID, "sso.link", userTarget(u.ID), map[string]any{"provider": pr.Name})
		}
		u, err := s.provision(ctx, tx, src, pr, pf, a)
		if err != nil {
			return err
		}
		created, userID = u, u.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	if created != nil {
		s.publish(ctx, "user", "created", created.GroupID, strconv.FormatInt(created.ID, 10))
	}
	res, err := s.sessions.StartExternalSession(ctx, src, userID, string(kind)+":"+providerName)
	if err != nil && fault.Is(err, fault.Unauthorized) {
		return nil, fault.New(fault.Unauthorized, "your account is disabled").WithReason(ReasonAccountDisabled)
	}
	return res, err
}

// provision creates the user and links it.
func (s *Service) provision(ctx context.Context, tx Tx, src audit.Source, pr *Provider, pf *profile, a Assertion) (*identity.User, error) {
	if err := identity.ValidateUsername(pf.username); err != nil {
		return nil, fault.New(fault.Invalid, "the identity provider sent no usable username").Wrap(err)
	}
	var email string
	if pf.email != "" && identity.ValidateEmail(pf.email) == nil {
		email = pf.email
	}
	if _, err := tx.UserByLogin(ctx, pf.username); err == nil {
		return nil, fault.Errorf(fault.Conflict, "a local account named %q exists; an administrator must link it", pf.username)
	}
	if email != "" {
		if _, err := tx.UserByLogin(ctx, email); err == nil {
			return nil, fault.New(fault.Conflict, "a local account with your email exists; an administrator must link it")
		}
	}
	g, err := tx.GroupByID(ctx, pf.groupID)
	if err != nil {
		return nil, err
	}
	// No password: a provider's user signs in through the provider until
	// an administrator gives them a local password.
	u := &identity.User{Username: pf.username, Email: email, FullName: pf.name, Role: pf.role, GroupID: g.ID,
		GroupName: g.Name, EmailVerified: email != "", IsActive: true}
	if err := tx.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	if err := tx.CreateSSOLink(ctx, pr.ID, a.Subject, u.ID, s.now().UTC()); err != nil {
		return nil, err
	}
	return u, audit.Record(ctx, tx, src, u.GroupID, "user.create", userTarget(u.ID),
		map[string]any{"username": u.Username, "role": u.Role, "provider": pr.Name, "just_in_time": true})
}

// refreshLinked applies a mapped group and role to a linked user when the
// provider sent groups and they changed.
func (s *Service) refreshLinked(ctx context.Context, tx Tx, src audit.Source, pr *Provider, userID int64, pf *profile, a Assertion) error {
	if pr.Settings.GroupsClaim == "" || len(a.Claims[pr.Settings.GroupsClaim]) == 0 {
		return nil
	}
	u, err := tx.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	if u.GroupID == pf.groupID && u.Role == pf.role {
		return nil
	}
	from := map[string]any{"group_id": u.GroupID, "role": u.Role}
	u.GroupID, u.Role = pf.groupID, pf.role
	if err := tx.UpdateUser(ctx, u); err != nil {
		return err
	}
	return audit.Record(ctx, tx, src, u.GroupID, "user.update", userTarget(u.ID),
		map[string]any{"from": from, "group_id": u.GroupID, "role": u.Role, "provider": pr.Name})
}

func userTarget(id int64) string { return fmt.Sprintf("user:%d", id) }

// ConsumeAssertion records a SAML assertion id of provider as used until
// expires and reports whether it was fresh: a replayed assertion is not.
// Records are shared by every replica (the store) and pruned once expired.
func (s *Service) ConsumeAssertion(ctx context.Context, provider, id string, expires time.Time) (bool, error) {
	var fresh bool
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		fresh, err = tx.ConsumeSSOAssertion(ctx, provider+":"+id, expires, s.now())
		return err
	})
	return fresh, err
}
