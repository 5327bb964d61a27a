package netkey_test

import (
	"testing"

	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store/storetest"
)

// Failed sign-ins draw on one budget per client address across dialects:
// NetKey's login and refresh count against --auth-failure-limit, and once
// it is spent Netmaker's, Nekzus's and GateKey's logins refuse that address as well,
// the right password included; another address is unaffected, and
// successful logins never spend the budget.
func TestSignInFailuresSharedAcrossDialects(t *testing.T) {
	t.Parallel()
	e := servertest.StartWith(t, storetest.Kinds()[0], func(c *config.Config) {
		c.AuthFailureLimit = 3
		c.TrustProxyHeaders = true // X-Forwarded-For picks the address
	})
	e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }
	creds := func(pw string) map[string]string { return map[string]string{"username": "alice", "password": pw} }
	for i := range 12 {
		if r := e.Do(t, "POST", "/api/auth/login", creds("password1"), from("198.51.100.7")...); r.Status != 200 {
			t.Fatalf("success %d: %d %s", i, r.Status, r.Raw)
		}
	}
	steps := []struct {
		name, path, ip, password string
		status                   int
	}{
		{"netkey wrong password", "/api/auth/login", "198.51.100.7", "wrong one", 401},
		{"netkey bad refresh", "/api/auth/refresh", "198.51.100.7", "", 401},
		{"netmaker wrong password", "/api/users/adm/authenticate", "198.51.100.7", "wrong two", 401},
		{"netkey, budget spent", "/api/auth/login", "198.51.100.7", "password1", 429},
		{"netmaker, budget spent", "/api/users/adm/authenticate", "198.51.100.7", "password1", 429},
		{"nekzus, budget spent", "/api/v1/auth/login", "198.51.100.7", "password1", 429},
		{"gatekey, budget spent", "/api/v1/auth/local/login", "198.51.100.7", "password1", 429},
		{"another address", "/api/auth/login", "198.51.100.8", "password1", 200},
	}
	for _, s := range steps {
		body := any(creds(s.password))
		if s.path == "/api/auth/refresh" {
			body = map[string]string{"refresh_token": "not-a-token"}
		}
		r := e.Do(t, "POST", s.path, body, from(s.ip)...)
		if r.Status != s.status && !(s.status == 401 && r.Status >= 400 && r.Status < 429) {
			t.Fatalf("%s: %d %s, want %d", s.name, r.Status, r.Raw, s.status)
		}
		if s.status == 429 && r.Header.Get("Retry-After") == "" {
			t.Fatalf("%s: 429 without Retry-After", s.name)
		}
	}
}
