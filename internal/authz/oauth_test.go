package authz

import (
	"testing"

	"netkeep/internal/fault"
)

// TestAllowOAuth: an OAuth2 client's token acts for its user within the
// granted scopes: neither beyond them nor beyond the role, and never in
// another group.
func TestAllowOAuth(t *testing.T) {
	t.Parallel()
	token := func(role Role, scopes ...Action) *Principal {
		s := Scopes{}
		for _, a := range scopes {
			s[a] = true
		}
		return &Principal{Kind: KindOAuth, Role: role, GroupID: 1, UserID: 10, Subject: "nkc_x", Scopes: s}
	}
	own, other := Resource{GroupID: 1}, Resource{GroupID: 2}
	for _, tc := range []struct {
		name string
		p    *Principal
		a    Action
		res  Resource
		want fault.Code
	}{
		{"ok/granted", token(GroupAdmin, "devices:read"), "devices:read", own, ""},
		{"403/not granted", token(GroupAdmin, "devices:read"), "psks:read", own, fault.Forbidden},
		{"403/granted beyond role", token(User, "users:write"), "users:write", own, fault.Forbidden},
		{"404/other group", token(GroupAdmin, "devices:read"), "devices:read", other, fault.NotFound},
		{"ok/super other group", token(SuperAdmin, "devices:read"), "devices:read", other, ""},
		{"403/no scopes", token(SuperAdmin), "devices:read", own, fault.Forbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fault.CodeOf(Allow(tc.p, tc.a, tc.res)); got != tc.want && !(tc.want == "" && got == "") {
				t.Errorf("Allow = %q, want %q", got, tc.want)
			}
		})
	}
	if a := token(User).Actor(); a != "oauth:nkc_x:user:10" {
		t.Errorf("Actor = %q", a)
	}
}
