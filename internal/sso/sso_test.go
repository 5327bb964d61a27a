package sso_test

import (
	"context"
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/secret"
	"netkeep/internal/server/servertest"
	"netkeep/internal/sso"
	"netkeep/internal/store"
)

var (
	ctx    = context.Background()
	master = &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}
	src    = servertest.Src
)

// clock is a settable clock for the services under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// service is an sso.Service over e's database with a settable clock.
func service(tb testing.TB, e *servertest.Env) (*sso.Service, *clock) {
	tb.Helper()
	keys, err := secret.Derive(e.Root)
	if err != nil {
		tb.Fatal(err)
	}
	c := &clock{t: time.Now()}
	return sso.NewService(store.For[sso.Tx](e.DB), keys, e.Server.Identity, sso.DefaultConfig(), sso.WithClock(c.now)), c
}

func str(s string) *string { return &s }

func oidcInput(name string) sso.ProviderInput {
	return sso.ProviderInput{Name: name, Kind: sso.OIDC, ClientSecret: str("s3cret"),
		Settings: sso.Settings{Issuer: "https://idp.example", ClientID: "netkeep"}}
}

func TestProviderValidation(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		svc, _ := service(t, e)
		if _, err := svc.CreateProvider(ctx, master, src, oidcInput("taken")); err != nil {
			t.Fatal(err)
		}
		admin := e.CreateUser(t, "gadmin", "password1", identity.GroupAdmin, "A")
		gadmin := &authz.Principal{Kind: authz.KindUser, UserID: admin.ID, Role: authz.GroupAdmin, GroupID: admin.GroupID}
		for _, tc := range []struct {
			name string
			p    *authz.Principal
			in   func() sso.ProviderInput
			code fault.Code
		}{
			{"invalid/name", master, func() sso.ProviderInput { return oidcInput("Bad Name") }, fault.Invalid},
			{"invalid/issuer", master, func() sso.ProviderInput {
				in := oidcInput("x1")
				in.Settings.Issuer = "ftp://idp"
				return in
			}, fault.Invalid},
			{"invalid/client id", master, func() sso.ProviderInput {
				in := oidcInput("x2")
				in.Settings.ClientID = ""
				return in
			}, fault.Invalid},
			{"invalid/saml both metadata", master, func() sso.ProviderInput {
				return sso.ProviderInput{Name: "x3", Kind: sso.SAML, Settings: sso.Settings{MetadataURL: "https://i/m", MetadataXML: "<x/>"}}
			}, fault.Invalid},
			{"invalid/role", master, func() sso.ProviderInput {
				in := oidcInput("x4")
				in.Settings.GroupMappings = []sso.GroupMapping{{Claim: "a", Role: "KING"}}
				return in
			}, fault.Invalid},
			{"invalid/unknown group", master, func() sso.ProviderInput {
				in := oidcInput("x5")
				in.Settings.GroupMappings = []sso.GroupMapping{{Claim: "a", Group: "nope", Role: identity.RoleUser}}
				return in
			}, fault.Invalid},
			{"invalid/type", master, func() sso.ProviderInput { return sso.ProviderInput{Name: "x6", Kind: "ldap"} }, fault.Invalid},
			{"conflict/name", master, func() sso.ProviderInput { return oidcInput("taken") }, fault.Conflict},
			{"forbidden/group admin", gadmin, func() sso.ProviderInput { return oidcInput("x7") }, fault.Forbidden},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := svc.CreateProvider(ctx, tc.p, src, tc.in()); fault.CodeOf(err) != tc.code {
					t.Errorf("err = %v, want %s", err, tc.code)
				}
			})
		}
	})
}

func TestProviderSecretIsSealed(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	svc, _ := service(t, e)
	if _, err := svc.CreateProvider(ctx, master, src, oidcInput("corp")); err != nil {
		t.Fatal(err)
	}
	stored, err := store.For[sso.Tx](e.DB).Read().SSOProviderByName(ctx, "corp")
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.SealedSecret) == 0 || strings.Contains(string(stored.SealedSecret), "s3cret") {
		t.Errorf("stored secret %q is not sealed", stored.SealedSecret)
	}
	if p, err := svc.Provider(ctx, "corp"); err != nil || p.ClientSecret != "s3cret" {
		t.Errorf("Provider = %+v, %v; want the secret opened", p, err)
	}
	list, err := svc.ListProviders(ctx, master)
	if err != nil || len(list) != 1 || list[0].ClientSecret != "" || !list[0].HasSecret {
		t.Errorf("ListProviders = %+v, %v; want the secret hidden but present", list, err)
	}
	infos, err := svc.Providers(ctx)
	if err != nil || len(infos) != 1 || infos[0] != (sso.ProviderInfo{Name: "corp", Kind: sso.OIDC, DisplayName: "corp"}) {
		t.Errorf("Providers = %+v, %v", infos, err)
	}
}

// TestSignIn: just-in-time provisioning, the domain allow-list, group
// mappings, linking only when provisioning is off, and disabled users.
func TestSignIn(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		svc, _ := service(t, e)
		e.CreateUser(t, "localonly", "password1", identity.RoleUser, "ops")
		in := oidcInput("corp")
		in.Settings.AllowedDomains = []string{"Example.com"}
		in.Settings.GroupsClaim = "groups"
		in.Settings.GroupMappings = []sso.GroupMapping{{Claim: "netkeep-admins", Group: "ops", Role: identity.GroupAdmin}}
		if _, err := svc.CreateProvider(ctx, master, src, in); err != nil {
			t.Fatal(err)
		}
		strict := oidcInput("strict")
		strict.Settings.NoProvisioning = true
		if _, err := svc.CreateProvider(ctx, master, src, strict); err != nil {
			t.Fatal(err)
		}
		claims := func(kv ...string) map[string][]string {
			m := map[string][]string{}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i]] = append(m[kv[i]], kv[i+1])
			}
			return m
		}
		for _, tc := range []struct {
			name, provider, subject string
			claims                  map[string][]string
			code                    fault.Code
			role                    identity.Role
			group                   string
		}{
			{"jit user", "corp", "s1", claims("preferred_username", "dana", "email", "dana@example.com"), "", identity.RoleUser, "default"},
			{"jit mapped admin", "corp", "s2", claims("preferred_username", "erin", "email", "erin@example.com", "groups", "netkeep-admins"), "", identity.GroupAdmin, "ops"},
			{"domain not allowed", "corp", "s3", claims("preferred_username", "mallory", "email", "mallory@evil.example"), fault.Forbidden, "", ""},
			{"local account taken", "corp", "s4", claims("preferred_username", "localonly", "email", "x@example.com"), fault.Conflict, "", ""},
			{"not provisioned", "strict", "s5", claims("email", "nobody@example.com"), fault.Forbidden, "", ""},
			{"linked by email", "strict", "s6", claims("email", "localonly@example.com"), "", identity.RoleUser, "ops"},
			{"no subject", "corp", "", claims("email", "a@example.com"), fault.Unauthorized, "", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res, err := svc.SignIn(ctx, src, tc.provider, sso.Assertion{Subject: tc.subject, Claims: tc.claims})
				if tc.code != "" {
					if fault.CodeOf(err) != tc.code {
						t.Errorf("err = %v, want %s", err, tc.code)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if res.User.Role != tc.role || res.User.GroupName != tc.group || res.Tokens.SessionID == "" {
					t.Errorf("signed in %+v, want role %s in %s with a session", res.User, tc.role, tc.group)
				}
			})
		}

		// The same subject again is the same user; disabled, refused.
		first, err := svc.SignIn(ctx, src, "corp", sso.Assertion{Subject: "s1", Claims: claims("email", "dana@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		off := false
		if _, err := e.Server.Identity.UpdateUser(ctx, master, src, first.User.ID, identity.UserPatch{IsActive: &off}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SignIn(ctx, src, "corp", sso.Assertion{Subject: "s1", Claims: claims("email", "dana@example.com")}); fault.CodeOf(err) != fault.Unauthorized {
			t.Errorf("disabled user signed in: %v", err)
		}
	})
}

// TestClients: the secret is shown once and stored as its SHA-256; another
// group's admin cannot see the client; scopes must be known names.
func TestClients(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	svc, _ := service(t, e)
	a := e.CreateUser(t, "admin-a", "password1", identity.GroupAdmin, "A")
	b := e.CreateUser(t, "admin-b", "password1", identity.GroupAdmin, "B")
	pa := &authz.Principal{Kind: authz.KindUser, UserID: a.ID, Role: authz.GroupAdmin, GroupID: a.GroupID}
	pb := &authz.Principal{Kind: authz.KindUser, UserID: b.ID, Role: authz.GroupAdmin, GroupID: b.GroupID}
	in := sso.ClientInput{Name: "app", RedirectURIs: []string{"https://app.example/cb"}, Scopes: []string{"openid", "scans_read", "psks:read"}}
	c, secret, err := svc.RegisterClient(ctx, pa, src, in)
	if err != nil {
		t.Fatal(err)
	}
	if c.SecretHash != sha256.Sum256([]byte(secret)) || secret == "" {
		t.Error("the stored hash is not the secret's SHA-256")
	}
	if _, err := svc.AuthenticateClient(ctx, c.ID, secret); err != nil {
		t.Errorf("right secret: %v", err)
	}
	if _, err := svc.AuthenticateClient(ctx, c.ID, secret+"x"); fault.CodeOf(err) != fault.Unauthorized {
		t.Errorf("wrong secret: %v", err)
	}
	if _, err := svc.GetClient(ctx, pb, c.ID); fault.CodeOf(err) != fault.NotFound {
		t.Errorf("other group's admin: %v, want not_found", err)
	}
	if list, err := svc.ListClients(ctx, pb); err != nil || len(list) != 0 {
		t.Errorf("other group's list = %v, %v", list, err)
	}
	for _, bad := range []sso.ClientInput{
		{Name: "x", RedirectURIs: []string{"https://a/cb"}, Scopes: []string{"launch_missiles"}},
		{Name: "x", RedirectURIs: []string{"/relative"}, Scopes: []string{"openid"}},
		{Name: "", RedirectURIs: []string{"https://a/cb"}, Scopes: []string{"openid"}},
	} {
		if _, _, err := svc.RegisterClient(ctx, pa, src, bad); fault.CodeOf(err) != fault.Invalid {
			t.Errorf("RegisterClient(%+v) = %v, want invalid", bad, err)
		}
	}
}

// TestCodeLifetime: a code works within 60 s, not after.
func TestCodeLifetime(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	svc, clk := service(t, e)
	u := e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "A")
	p := &authz.Principal{Kind: authz.KindUser, UserID: u.ID, Role: authz.GroupAdmin, GroupID: u.GroupID}
	c, _, err := svc.RegisterClient(ctx, p, src, sso.ClientInput{Name: "app", RedirectURIs: []string{"https://a/cb"}, Scopes: []string{"openid"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		after time.Duration
		ok    bool
	}{{"fresh", 59 * time.Second, true}, {"expired", 61 * time.Second, false}} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := svc.CreateAuthRequest(ctx, c.ID, []byte(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.SaveCode(ctx, r.ID, "code-"+tc.name); fault.CodeOf(err) != fault.NotFound {
				t.Errorf("code before consent: %v, want not_found", err)
			}
			if err := svc.Consent(ctx, p, src, r.ID); err != nil {
				t.Fatal(err)
			}
			if err := svc.SaveCode(ctx, r.ID, "code-"+tc.name); err != nil {
				t.Fatal(err)
			}
			clk.add(tc.after)
			_, err = svc.AuthRequestByCode(ctx, "code-"+tc.name)
			if (err == nil) != tc.ok {
				t.Errorf("after %s: %v", tc.after, err)
			}
		})
	}
}

// TestSigningKeyRotation: a key signs for a day; the old one stays
// published until the tokens it signed have expired.
func TestSigningKeyRotation(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	svc, clk := service(t, e)
	first, pub, err := svc.SigningKeys(ctx)
	if err != nil || len(pub) != 1 {
		t.Fatalf("first key: %v %d", err, len(pub))
	}
	clk.add(25 * time.Hour)
	second, pub, err := svc.SigningKeys(ctx)
	if err != nil || second.ID == first.ID || len(pub) != 2 {
		t.Fatalf("after a day: signing %s (first %s), %d published, %v", second.ID, first.ID, len(pub), err)
	}
	clk.add(23 * time.Hour) // first is 48 h old: its tokens (1 h) long expired
	_, pub, err = svc.SigningKeys(ctx)
	if err != nil || len(pub) != 1 || pub[0].ID != second.ID {
		t.Errorf("later: %d published, want only %s (%v)", len(pub), second.ID, err)
	}
}

// TestGrantedActions: scope names grant their netkeep actions, never more
// than the user's role.
func TestGrantedActions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		role   authz.Role
		scopes []string
		want   []string
	}{
		{"netrecon admin", authz.GroupAdmin, []string{"openid", "users_manage", "scans_read"}, []string{"users:read", "users:write"}},
		{"netrecon user", authz.User, []string{"users_manage", "devices_read"}, []string{"devices:read", "users:read"}},
		{"netkeep names", authz.User, []string{"psks:read", "audit:read"}, []string{"psks:read"}},
		{"unknown", authz.SuperAdmin, []string{"profile", "launch"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sso.GrantedActions(tc.role, tc.scopes).List()
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("GrantedActions = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestProvidersFile(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	svc, _ := service(t, e)
	file := []byte(`providers:
  - name: corp
    type: oidc
    display_name: Corp SSO
    group: default
    client_secret_file: /secret
    settings:
      issuer: https://login.example.com/realms/corp
      client_id: netkeep
      allowed_domains: [example.com]
`)
	ps, err := sso.ParseProvidersFile(file, func(string) ([]byte, error) { return []byte("from-file\n"), nil })
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // applied at every start: the second is an update
		if err := svc.ApplyManaged(ctx, ps); err != nil {
			t.Fatal(err)
		}
	}
	p, err := svc.Provider(ctx, "corp")
	if err != nil || !p.Managed || p.ClientSecret != "from-file" || p.DisplayName != "Corp SSO" {
		t.Fatalf("provider = %+v, %v", p, err)
	}
	if _, err := svc.UpdateProvider(ctx, master, src, "corp", oidcInput("corp")); fault.CodeOf(err) != fault.Conflict {
		t.Errorf("API update of a managed provider: %v, want conflict", err)
	}
	if _, err := sso.ParseProvidersFile([]byte("providers:\n  - name: x\n    isuer: typo\n"), nil); err == nil {
		t.Error("a misspelt key was accepted")
	}
}
