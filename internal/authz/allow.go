package authz

import "netkeep/internal/fault"

// Resource is what an action applies to. GroupID 0 is a server-wide object
// (only super principals may act on it); OwnerID is the user who owns it, when
// ownership matters (a USER manages only its own objects). For the kinds of
// object a USER may own (ownedKinds) OwnerID 0 is "no owner", which no USER
// may write; a caller creating such an object for p passes p.UserID. For
// other kinds OwnerID 0 means ownership does not apply.
type Resource struct {
	GroupID int64
	OwnerID int64
}

// Any is the resource for actions on a collection within the caller's group
// (listing, creating): only the role and scope matter.
var Any = Resource{GroupID: -1}

// errors returned by Allow; handlers render them.
var (
	errUnauthenticated = fault.New(fault.Unauthorized, "authentication required")
	errForbidden       = fault.New(fault.Forbidden, "insufficient permissions")
	errNotFound        = fault.New(fault.NotFound, "not found")
	errAdminRole       = fault.New(fault.Forbidden, "administrator role required")
)

// Administer is the action of using an administrators' API (GateKey's
// /api/v1/admin views, for instance) where no narrower action decides:
// only a SUPER_ADMIN or GROUP_ADMIN may take it, or the master key, or a
// credential one of them handed out. It is a rule of the role, not a
// scope: no API key is granted it by name, an administrator's key holds it
// through its role, and the call's own domain actions still check the
// key's scopes.
const Administer Action = "administer"

// Allow decides whether p may perform a on res. It returns nil, or a fault
// error: unauthorized (no principal), not_found (res is in another group:
// invisible), forbidden (visible but not permitted).
func Allow(p *Principal, a Action, res Resource) error {
	if p == nil {
		return errUnauthenticated
	}
	if p.Kind == KindMaster {
		return nil
	}
	if !p.ActsForUser() && p.Kind != KindLocal {
		// Node and gateway credentials act only through their own handlers.
		return errForbidden
	}
	if !p.IsSuper() && res.GroupID != -1 && res.GroupID != p.GroupID {
		return errNotFound
	}
	if p.Delegated() && a != Administer && !p.Scopes.Has(a) {
		return errForbidden
	}
	if !roleAllows(p.Role, a) {
		if a == Administer {
			return errAdminRole
		}
		return errForbidden
	}
	if p.Role == User && isWrite(a) && res != Any && !userMayWrite(p, a, res) {
		return errForbidden
	}
	return nil
}

var errServerWide = fault.New(fault.Forbidden, "this is server-wide: only a SUPER_ADMIN may use it")

// AllowServer decides an action on something server-wide that holds or
// shows every group's data or the host's (backups, host resources): Allow,
// and then only a super principal (or an API key of one).
func AllowServer(p *Principal, a Action) error {
	if err := Allow(p, a, Any); err != nil {
		return err
	}
	if !p.IsSuper() {
		return errServerWide
	}
	return nil
}

// ownedKinds are the write actions on objects that belong to one user (its
// mesh nodes, devices, apps): a USER writes only its own, never an owner-less
// one.
var ownedKinds = map[Action]bool{"nodes:write": true, "devices:write": true, "apps:write": true}

// userMayWrite is the ownership rule for a USER's write on one object.
func userMayWrite(p *Principal, a Action, res Resource) bool {
	if ownedKinds[a] {
		return res.OwnerID == p.UserID
	}
	return res.OwnerID == 0 || res.OwnerID == p.UserID
}

// roleAllows is the role table: SUPER_ADMIN and GROUP_ADMIN may do
// everything (the group check above confines GROUP_ADMIN); USER may read, and
// write the resources users own themselves.
func roleAllows(r Role, a Action) bool {
	switch r {
	case SuperAdmin, GroupAdmin:
		return a != "groups:write" || r == SuperAdmin
	case User:
		switch a {
		case Administer, "users:write", "groups:write", "audit:read", "radius:write", "radius:read", "pki:write", "networks:write", "gateways:write",
			"vpn-networks:write", "access-rules:write", "backups:read", "backups:write", "system:read",
			"scripts:read", "scripts:write", "scripts:execute", "toolbox:read", "toolbox:write", "containers:read", "containers:write", "federation:read", "federation:write":
			return false
		}
		return true
	}
	return false
}

func isWrite(a Action) bool {
	n := len(a)
	return !(n >= 5 && a[n-5:] == ":read")
}
