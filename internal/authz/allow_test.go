package authz

import (
	"testing"

	"netkeep/internal/fault"
)

func TestAllow(t *testing.T) {
	t.Parallel()
	key := func(role Role, scopes ...string) *Principal {
		s, err := ParseScopes(scopes)
		if err != nil {
			t.Fatal(err)
		}
		return &Principal{Kind: KindAPIKey, Role: role, GroupID: 1, UserID: 10, Scopes: s}
	}
	// A device acts with its pairing user's role, within its scopes, and
	// is never super even when its user is.
	device := func(role Role, scopes ...string) *Principal {
		p := key(role, scopes...)
		p.Kind, p.Subject = KindDevice, "phone"
		return p
	}
	user := func(role Role) *Principal { return &Principal{Kind: KindUser, Role: role, GroupID: 1, UserID: 10} }
	own := Resource{GroupID: 1}
	other := Resource{GroupID: 2}
	cases := []struct {
		name string
		p    *Principal
		a    Action
		res  Resource
		want fault.Code
	}{
		{"401/nobody", nil, "psks:read", own, fault.Unauthorized},
		{"ok/master anywhere", &Principal{Kind: KindMaster}, "groups:write", other, ""},
		{"ok/super other group", user(SuperAdmin), "psks:write", other, ""},
		{"404/group admin other group", user(GroupAdmin), "psks:read", other, fault.NotFound},
		{"ok/group admin own group", user(GroupAdmin), "users:write", own, ""},
		{"403/group admin groups:write", user(GroupAdmin), "groups:write", own, fault.Forbidden},
		{"ok/user reads", user(User), "psks:read", own, ""},
		{"403/user writes users", user(User), "users:write", own, fault.Forbidden},
		{"403/user writes another's object", user(User), "psks:write", Resource{GroupID: 1, OwnerID: 11}, fault.Forbidden},
		{"ok/user writes own object", user(User), "psks:write", Resource{GroupID: 1, OwnerID: 10}, ""},
		{"403/user writes an owner-less node", user(User), "nodes:write", own, fault.Forbidden},
		{"403/user writes an owner-less device", user(User), "devices:write", own, fault.Forbidden},
		{"403/user writes an owner-less app", user(User), "apps:write", own, fault.Forbidden},
		{"403/user writes another's node", user(User), "nodes:write", Resource{GroupID: 1, OwnerID: 11}, fault.Forbidden},
		{"403/user key writes an owner-less device", key(User, "devices:write"), "devices:write", own, fault.Forbidden},
		{"ok/user writes its own device", user(User), "devices:write", Resource{GroupID: 1, OwnerID: 10}, ""},
		{"ok/user creates an app", user(User), "apps:write", Any, ""},
		{"ok/user reads an owner-less node", user(User), "nodes:read", own, ""},
		{"ok/group admin writes an owner-less node", user(GroupAdmin), "nodes:write", own, ""},
		{"ok/user writes an owner-less PSK", user(User), "psks:write", own, ""},
		{"ok/key with scope", key(GroupAdmin, "psks:read"), "psks:read", own, ""},
		{"403/key without scope", key(GroupAdmin, "psks:read"), "psks:write", own, fault.Forbidden},
		{"403/key beyond creator's role", key(User, "users:write"), "users:write", own, fault.Forbidden},
		{"404/key other group", key(GroupAdmin, "psks:read"), "psks:read", other, fault.NotFound},
		{"403/node credential", &Principal{Kind: KindNode}, "psks:read", own, fault.Forbidden},
		{"ok/device within its scopes", device(GroupAdmin, "read:events"), "devices:read", own, ""},
		{"403/device beyond its scopes", device(GroupAdmin, "read:events"), "devices:write", own, fault.Forbidden},
		{"403/device beyond its user's role", device(User, "access:admin"), "users:write", own, fault.Forbidden},
		{"404/device other group", device(SuperAdmin, "read:*"), "devices:read", other, fault.NotFound},
		{"ok/local administrator in its group", &Principal{Kind: KindLocal, Role: GroupAdmin, GroupID: 1}, "devices:write", own, ""},
		{"404/local administrator other group", &Principal{Kind: KindLocal, Role: GroupAdmin, GroupID: 1}, "devices:read", other, fault.NotFound},
		{"ok/local super administrator other group", &Principal{Kind: KindLocal, Role: SuperAdmin, GroupID: 1}, "devices:write", other, ""},
		{"ok/any resource", user(GroupAdmin), "psks:write", Any, ""},
		// Administer is the role's, not a scope: an administrator's key of
		// any scope takes it, a user's key of every scope does not.
		{"401/administer nobody", nil, Administer, Any, fault.Unauthorized},
		{"ok/administer group admin", user(GroupAdmin), Administer, Any, ""},
		{"ok/administer super", user(SuperAdmin), Administer, Any, ""},
		{"ok/administer master", &Principal{Kind: KindMaster}, Administer, Any, ""},
		{"ok/administer local administrator", &Principal{Kind: KindLocal, Role: GroupAdmin, GroupID: 1}, Administer, Any, ""},
		{"403/administer user", user(User), Administer, Any, fault.Forbidden},
		{"ok/administer admin's narrow key", key(GroupAdmin, "audit:read"), Administer, Any, ""},
		{"403/administer user's wide key", key(User, "psks:*", "users:*", "apikeys:manage"), Administer, Any, fault.Forbidden},
		{"403/administer gateway credential", &Principal{Kind: KindGateway, GroupID: 1}, Administer, Any, fault.Forbidden},
		{"404/administer other group", user(GroupAdmin), Administer, other, fault.NotFound},
	}
	for _, c := range cases {
		if got := fault.CodeOf(Allow(c.p, c.a, c.res)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if _, err := ParseScopes([]string{string(Administer)}); err == nil {
		t.Error("administer is granted as a scope; want it the role's only")
	}
}

// TestAllowServerLocal: local trust reaches server-wide actions (backups,
// the host) only when it acts as SUPER_ADMIN.
func TestAllowServerLocal(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		role Role
		want fault.Code
	}{{GroupAdmin, fault.Forbidden}, {SuperAdmin, ""}} {
		p := &Principal{Kind: KindLocal, Role: c.role, GroupID: 1}
		if got := fault.CodeOf(AllowServer(p, "backups:read")); got != c.want || p.IsSuper() != (c.want == "") {
			t.Errorf("local %s: %q (super %v), want %q", c.role, got, p.IsSuper(), c.want)
		}
	}
}

func TestParseScopes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      []string
		has     []Action
		lacks   []Action
		invalid bool
	}{
		{in: []string{"psks:read"}, has: []Action{"psks:read"}, lacks: []Action{"psks:write"}},
		{in: []string{"psks:*"}, has: []Action{"psks:read", "psks:write", "psks:delete"}, lacks: []Action{"users:read"}},
		{in: []string{"read:*"}, has: []Action{"psks:read", "audit:read"}, lacks: []Action{"psks:write"}},
		{in: []string{"write:*"}, has: []Action{"psks:write", "apikeys:manage"}, lacks: []Action{"psks:read"}},
		{in: []string{"access:admin"}, has: []Action{"groups:write", "psks:read"}},
		{in: []string{"read:catalog"}, has: []Action{"apps:read"}},
		{in: []string{"users_manage"}, has: []Action{"users:read", "users:write"}},
		{in: []string{"psks:eat"}, invalid: true},
		{in: []string{"nothing:*"}, invalid: true},
	}
	for _, c := range cases {
		s, err := ParseScopes(c.in)
		if c.invalid {
			if !fault.Is(err, fault.Invalid) {
				t.Errorf("%v: %v, want invalid", c.in, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", c.in, err)
		}
		for _, a := range c.has {
			if !s.Has(a) {
				t.Errorf("%v lacks %s", c.in, a)
			}
		}
		for _, a := range c.lacks {
			if s.Has(a) {
				t.Errorf("%v has %s", c.in, a)
			}
		}
	}
}
