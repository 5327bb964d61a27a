package apikey_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"netkeep/internal/apikey"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

var (
	secretShape = regexp.MustCompile(`^nk_[0-9A-Za-z]{43}$`)
	idShape     = regexp.MustCompile(`^key_[0-9a-f]{16}$`)
	// formatShapes are the documented secret formats.
	formatShapes = map[apikey.Format]*regexp.Regexp{
		apikey.FormatNetKey:   secretShape,
		apikey.FormatGateKey:  regexp.MustCompile(`^gk_[0-9A-Za-z]{43}$`),
		apikey.FormatNetRecon: regexp.MustCompile(`^nr_live_[0-9a-f]{48}$`),
		apikey.FormatNekzus:   regexp.MustCompile(`^nekzus_[0-9a-f]{64}$`),
	}
)

func TestCreateAndAuthenticate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		sub := f.bus.Subscribe("apikey")
		defer sub.Close()

		k, secret := f.create(t, f.adminA, apikey.NewKey{Name: "  CI pipeline ", Scopes: []string{"psks:write", "psks:read"}})
		switch {
		case !secretShape.MatchString(secret):
			t.Fatalf("secret %q does not match %v", secret, secretShape)
		case !idShape.MatchString(k.ID):
			t.Fatalf("id %q does not match %v", k.ID, idShape)
		case k.Prefix != secret[:apikey.PrefixLen] || k.Hash != sha256.Sum256([]byte(secret)):
			t.Fatalf("prefix %q / hash do not come from the secret", k.Prefix)
		case k.Name != "CI pipeline" || fmt.Sprint(k.Scopes) != "[psks:write psks:read]" || fmt.Sprint(k.Grants) != "[psks:read psks:write]" ||
			k.Format != apikey.FormatNetKey:
			t.Fatalf("name %q scopes %v grants %v format %q", k.Name, k.Scopes, k.Grants, k.Format)
		case k.GroupID != f.groupA || k.CreatedBy != f.adminA.UserID || k.CreatedByName != "adminA":
			t.Fatalf("owner: %+v", k)
		case k.RatePerHour != 1000 || k.RatePerMinute != 100 || !k.CreatedAt.Equal(f.clock.Now()):
			t.Fatalf("defaults: %+v", k)
		}
		if e := receive(t, sub); e.Topic != "apikey" || e.Action != "created" || e.ID != k.ID || e.GroupID != f.groupA {
			t.Fatalf("event %+v", e)
		}
		if got := auditActions(t, db, "apikey:"+k.ID); fmt.Sprint(got) != "[apikey.create]" {
			t.Fatalf("audit %v", got)
		}
		assertSecretNotStored(t, db, secret)

		p, d, err := f.svc.Authenticate(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		want := authz.Principal{Kind: authz.KindAPIKey, UserID: f.adminA.UserID, Username: "adminA", Role: authz.GroupAdmin, GroupID: f.groupA, KeyID: k.ID}
		if p.Kind != want.Kind || p.UserID != want.UserID || p.Username != want.Username || p.Role != want.Role ||
			p.GroupID != want.GroupID || p.KeyID != want.KeyID || fmt.Sprint(p.Scopes.List()) != "[psks:read psks:write]" {
			t.Fatalf("principal %+v, want %+v with psks:read and psks:write", p, want)
		}
		if !d.Allowed || d.Limit != 100 || d.Remaining != 99 || !d.Reset.Equal(f.clock.Now().Add(time.Minute)) {
			t.Fatalf("decision %+v", d)
		}
		if err := authz.Allow(p, "psks:write", authz.Any); err != nil {
			t.Fatalf("key cannot use its scope: %v", err)
		}
		if err := authz.Allow(p, "users:read", authz.Any); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("key used a scope it lacks: %v", err)
		}
	})
}

// assertSecretNotStored scans every api_keys and audit_log value for the
// secret or its part beyond the displayed prefix.
func assertSecretNotStored(tb testing.TB, db *store.DB, secret string) {
	tb.Helper()
	hidden := secret[apikey.PrefixLen:]
	for _, table := range []string{"api_keys", "audit_log"} {
		rows, err := db.SQL().Query("SELECT * FROM " + table)
		if err != nil {
			tb.Fatal(err)
		}
		cols, _ := rows.Columns()
		n := 0
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatal(err)
			}
			for i, v := range vals {
				text := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					text = string(b)
				}
				if strings.Contains(text, hidden) {
					tb.Fatalf("%s.%s holds the secret: %q", table, cols[i], text)
				}
			}
			n++
		}
		rows.Close()
		if n == 0 {
			tb.Fatalf("%s is empty: nothing was scanned", table)
		}
	}
}

func TestCreateRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		keyWith := func(scopes ...string) *authz.Principal {
			s, err := authz.ParseScopes(scopes)
			if err != nil {
				t.Fatal(err)
			}
			return &authz.Principal{Kind: authz.KindAPIKey, UserID: f.adminA.UserID, Username: "adminA",
				Role: authz.GroupAdmin, GroupID: f.groupA, Scopes: s, KeyID: "key_0000000000000001"}
		}
		past, now := f.clock.Now().Add(-time.Second), f.clock.Now()
		future := f.clock.Now().Add(time.Hour)
		netrecon := func(scopes ...string) apikey.NewKey {
			return apikey.NewKey{Scopes: scopes, Vocabulary: authz.VocabNetRecon}
		}
		cases := []struct {
			name   string
			p      *authz.Principal
			in     apikey.NewKey
			code   fault.Code // "" for success
			msg    string
			scopes string        // grants, on success
			format apikey.Format // on success; "" for nk
		}{
			{name: "201/wildcard expands to canonical scopes", p: f.adminA, in: apikey.NewKey{Scopes: []string{"psks:*"}}, scopes: "[psks:delete psks:read psks:write]"},
			{name: "201/Nekzus names give a nekzus_ key", p: f.adminA, in: apikey.NewKey{Scopes: []string{"read:events", "read:catalog"}}, scopes: "[apps:read devices:read]", format: apikey.FormatNekzus},
			{name: "201/Nekzus vocabulary asked for", p: f.adminA, in: apikey.NewKey{Scopes: []string{"read:catalog"}, Vocabulary: authz.VocabNekzus}, scopes: "[apps:read]", format: apikey.FormatNekzus},
			{name: "201/NetRecon names give an nr_live_ key", p: f.adminA, in: netrecon("devices_read", "users_manage", "api_keys_manage"), scopes: "[apikeys:manage devices:read users:read users:write]", format: apikey.FormatNetRecon},
			{name: "201/NetRecon name netkeep lacks grants nothing", p: f.adminA, in: netrecon("scans_read", "billing"), scopes: "[]", format: apikey.FormatNetRecon},
			{name: "201/NetRecon users_manage narrowed for a USER", p: f.userA, in: netrecon("users_manage"), scopes: "[users:read]", format: apikey.FormatNetRecon},
			{name: "201/GateKey format asked for", p: f.adminA, in: apikey.NewKey{Scopes: []string{"gateways:read"}, Format: apikey.FormatGateKey}, scopes: "[gateways:read]", format: apikey.FormatGateKey},
			{name: "201/NetRecon names in the Nekzus format", p: f.adminA, in: apikey.NewKey{Scopes: []string{"devices_read"}, Vocabulary: authz.VocabNetRecon, Format: apikey.FormatNekzus}, scopes: "[devices:read]", format: apikey.FormatNekzus},
			{name: "201/user within its role", p: f.userA, in: apikey.NewKey{Scopes: []string{"devices:write"}}, scopes: "[devices:write]"},
			{name: "201/super admin may grant groups:write", p: f.super, in: apikey.NewKey{Scopes: []string{"groups:write"}}, scopes: "[groups:write]"},
			{name: "201/key with apikeys:manage creates within its scopes", p: keyWith("apikeys:manage", "psks:read"), in: apikey.NewKey{Scopes: []string{"psks:read"}}, scopes: "[psks:read]"},
			{name: "201/maximum rates and a future expiry", p: f.adminA, in: apikey.NewKey{ExpiresAt: &future, RatePerHour: 10000, RatePerMinute: 500}, scopes: "[psks:read]"},
			{name: "401/no principal", p: nil, code: fault.Unauthorized},
			{name: "400/master key", p: &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}, code: fault.Invalid, msg: "API keys must be created by a user"},
			{name: "400/blank name", p: f.adminA, in: apikey.NewKey{Name: "   "}, code: fault.Invalid, msg: "name is required"},
			{name: "400/long name", p: f.adminA, in: apikey.NewKey{Name: strings.Repeat("é", 101)}, code: fault.Invalid, msg: "at most 100"},
			{name: "400/no scopes", p: f.adminA, in: apikey.NewKey{Scopes: []string{}}, code: fault.Invalid, msg: "at least one scope"},
			{name: "400/unknown scope", p: f.adminA, in: apikey.NewKey{Scopes: []string{"psks:read", "psks:fly"}}, code: fault.Invalid, msg: `"psks:fly"`},
			{name: "400/control character in name", p: f.adminA, in: apikey.NewKey{Name: "ci\x00key"}, code: fault.Invalid, msg: "control"},
			{name: "400/bidi override in name", p: f.adminA, in: apikey.NewKey{Name: "ci\u202ekey"}, code: fault.Invalid, msg: "bidirectional"},
			{name: "400/NetRecon name on the shared rule", p: f.adminA, in: apikey.NewKey{Scopes: []string{"scans_read"}}, code: fault.Invalid, msg: `"scans_read"`},
			{name: "400/netkeep name in the NetRecon vocabulary", p: f.adminA, in: netrecon("devices_read", "psks:read"), code: fault.Invalid, msg: `"psks:read"`},
			{name: "400/Nekzus name in the NetRecon vocabulary", p: f.adminA, in: netrecon("read:*"), code: fault.Invalid, msg: `"read:*"`},
			{name: "400/netkeep name in the Nekzus vocabulary", p: f.adminA, in: apikey.NewKey{Scopes: []string{"psks:read"}, Vocabulary: authz.VocabNekzus}, code: fault.Invalid, msg: `"psks:read"`},
			{name: "400/vocabularies mixed", p: f.adminA, in: apikey.NewKey{Scopes: []string{"read:catalog", "psks:read"}}, code: fault.Invalid, msg: "one vocabulary"},
			{name: "400/unknown vocabulary", p: f.adminA, in: apikey.NewKey{Vocabulary: "klingon"}, code: fault.Invalid, msg: "klingon"},
			{name: "400/unknown format", p: f.adminA, in: apikey.NewKey{Format: "sk_live"}, code: fault.Invalid, msg: "sk_live"},
			{name: "400/expiry in the past", p: f.adminA, in: apikey.NewKey{ExpiresAt: &past}, code: fault.Invalid, msg: "future"},
			{name: "400/expiry now", p: f.adminA, in: apikey.NewKey{ExpiresAt: &now}, code: fault.Invalid, msg: "future"},
			{name: "400/hourly rate above maximum", p: f.adminA, in: apikey.NewKey{RatePerHour: 10001}, code: fault.Invalid, msg: "ratePerHour"},
			{name: "400/minute rate above maximum", p: f.adminA, in: apikey.NewKey{RatePerMinute: 501}, code: fault.Invalid, msg: "ratePerMinute"},
			{name: "400/negative rate", p: f.adminA, in: apikey.NewKey{RatePerMinute: -1}, code: fault.Invalid, msg: "ratePerMinute"},
			{name: "403/user asks for users:write", p: f.userA, in: apikey.NewKey{Scopes: []string{"psks:read", "users:write"}}, code: fault.Forbidden, msg: `"users:write"`},
			{name: "403/group admin asks for groups:write", p: f.adminA, in: apikey.NewKey{Scopes: []string{"groups:write"}}, code: fault.Forbidden, msg: `"groups:write"`},
			{name: "403/user asks for an alias of nothing it may do", p: f.userA, in: apikey.NewKey{Scopes: []string{"radius:*"}}, code: fault.Forbidden, msg: `"radius:*"`},
			{name: "403/key without apikeys:manage", p: keyWith("psks:read"), code: fault.Forbidden},
			{name: "403/key asks beyond its scopes", p: keyWith("apikeys:manage", "psks:read"), in: apikey.NewKey{Scopes: []string{"psks:write"}}, code: fault.Forbidden, msg: `"psks:write"`},
			{name: "403/node credential", p: &authz.Principal{Kind: authz.KindNode, Subject: "n1"}, code: fault.Forbidden},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				in := c.in
				if in.Name == "" {
					in.Name = "rules"
				}
				if in.Scopes == nil {
					in.Scopes = []string{"psks:read"}
				}
				k, secret, err := f.svc.Create(context.Background(), c.p, source(f.adminA), in)
				if c.code != "" {
					wantFault(t, err, c.code, c.msg)
					if k != nil || secret != "" {
						t.Fatalf("a failed create returned key %v and a secret", k)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := fmt.Sprint(k.Grants); got != c.scopes {
					t.Fatalf("grants %s, want %s", got, c.scopes)
				}
				if fmt.Sprint(k.Scopes) != fmt.Sprint(in.Scopes) {
					t.Fatalf("scopes %v, want them as given: %v", k.Scopes, in.Scopes)
				}
				format := c.format
				if format == "" {
					format = apikey.FormatNetKey
				}
				if k.Format != format || !formatShapes[format].MatchString(secret) || k.Prefix != secret[:apikey.PrefixLen] {
					t.Fatalf("format %q, secret %q, prefix %q; want format %q", k.Format, secret, k.Prefix, format)
				}
				if k.CreatedBy != c.p.UserID || k.GroupID != c.p.GroupID {
					t.Fatalf("owner %d in group %d, want %d in %d", k.CreatedBy, k.GroupID, c.p.UserID, c.p.GroupID)
				}
				if p := mustAuth(t, f.svc, secret); fmt.Sprint(p.Scopes.List()) != c.scopes {
					t.Fatalf("principal scopes %v, want %s", p.Scopes.List(), c.scopes)
				}
			})
		}
	})
}

func TestConcurrentCreates(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		const n = 50
		ids, secrets := make([]string, n), make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				k, secret, err := f.svc.Create(context.Background(), f.adminA, source(f.adminA),
					apikey.NewKey{Name: fmt.Sprint("key ", i), Scopes: []string{"psks:read"}})
				errs[i] = err
				if err == nil {
					ids[i], secrets[i] = k.ID, secret
				}
			})
		}
		wg.Wait()
		seenID, seenSecret := map[string]bool{}, map[string]bool{}
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("create %d: %v", i, errs[i])
			}
			if seenID[ids[i]] || seenSecret[secrets[i]] {
				t.Fatalf("create %d repeated an id or secret", i)
			}
			seenID[ids[i]], seenSecret[secrets[i]] = true, true
			if p := mustAuth(t, f.svc, secrets[i]); p.KeyID != ids[i] {
				t.Fatalf("secret %d authenticates as %s, want %s", i, p.KeyID, ids[i])
			}
		}
		keys, err := f.svc.List(context.Background(), f.adminA)
		if err != nil || len(keys) != n {
			t.Fatalf("listed %d keys (%v), want %d", len(keys), err, n)
		}
	})
}

// An alias means "of these, what I may grant": access:admin from a
// GROUP_ADMIN yields every scope of its role and nothing SUPER_ADMIN-only.
func TestAliasNarrowedToCreatorsRights(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		k, _, err := f.svc.Create(context.Background(), f.adminA, source(f.adminA), apikey.NewKey{Name: "all", Scopes: []string{"access:admin"}})
		if err != nil {
			t.Fatal(err)
		}
		want := authz.RoleGrants(authz.GroupAdmin).List()
		if fmt.Sprint(k.Grants) != fmt.Sprint(want) || fmt.Sprint(k.Scopes) != "[access:admin]" {
			t.Fatalf("grants %v, scopes %v; want %v, [access:admin]", k.Grants, k.Scopes, want)
		}
		for _, s := range k.Grants {
			if s == "groups:write" {
				t.Fatal("a GROUP_ADMIN's key holds groups:write")
			}
		}
	})
}
