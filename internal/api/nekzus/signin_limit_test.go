package nekzus_test

import (
	"strconv"
	"testing"

	"netkeep/internal/api/apitest"
	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store/storetest"
)

// TestSignInFailureLimit: only failed sign-ins spend the per-address
// budget (--auth-failure-limit); successful ones from the same address
// never do; once it is spent every sign-in from that address, correct or
// not, gets 429 RATE_LIMIT_EXCEEDED with Retry-After, while another address
// signs in as before.
func TestSignInFailureLimit(t *testing.T) {
	t.Parallel()
	e := servertest.StartWith(t, storetest.Kinds()[0], func(c *config.Config) {
		c.AuthFailureLimit = 3
		c.TrustProxyHeaders = true // X-Forwarded-For picks the address
	})
	e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }
	login := func(ip, password string) *servertest.Response {
		return e.Do(t, "POST", "/api/v1/auth/login", map[string]string{"username": "alice", "password": password}, from(ip)...)
	}
	// An office behind one address: many successful sign-ins.
	for i := range 20 {
		if r := login("198.51.100.1", "password1"); r.Status != 200 {
			t.Fatalf("success %d: %d %s", i, r.Status, r.Raw)
		}
	}
	tests := []struct {
		name     string
		ip       string
		password string
		status   int
	}{
		{"401/first failure", "198.51.100.1", "wrong one", 401},
		{"200/a success between failures", "198.51.100.1", "password1", 200},
		{"401/second failure", "198.51.100.1", "wrong two", 401},
		{"401/third failure", "198.51.100.1", "wrong three", 401},
		{"429/fourth attempt, wrong", "198.51.100.1", "wrong four", 429},
		{"429/the right password too", "198.51.100.1", "password1", 429},
		{"200/another address", "198.51.100.2", "password1", 200},
	}
	for _, tt := range tests {
		r := login(tt.ip, tt.password)
		if r.Status != tt.status {
			t.Fatalf("%s: %d %s", tt.name, r.Status, r.Raw)
		}
		if tt.status == 429 {
			if code := r.JSON["error"].(map[string]any)["code"]; code != "RATE_LIMIT_EXCEEDED" || r.Header.Get("Retry-After") == "" {
				t.Fatalf("%s: code %v, Retry-After %q", tt.name, code, r.Header.Get("Retry-After"))
			}
		}
	}
	// Refresh and setup draw on the same failure budget.
	if r := e.Do(t, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": "nope"}, from("198.51.100.1")...); r.Status != 429 {
		t.Fatalf("refresh after the failures: %d %s", r.Status, r.Raw)
	}
	for i, want := range []int{409, 409, 409, 429} {
		r := e.Do(t, "POST", "/api/v1/auth/setup", map[string]string{"username": "x", "password": "long enough"}, from("198.51.100.3")...)
		if r.Status != want {
			t.Fatalf("setup %d: %d, want %d (%s)", i, r.Status, want, r.Raw)
		}
	}
}

// TestAuthenticationBudget: Nekzus's "Authentication 10 req/min, burst 10"
// per address. Setup-status, login, refresh, me, logout, the redemption
// and the pairing draw on one count; the 11th request of the minute gets
// 429 RATE_LIMIT_EXCEEDED (RATE_LIMITED on the redemption) with
// Retry-After and the X-RateLimit-* headers, while another address, and
// GateKey's own sign-in (50/min), still pass. --nekzus-auth-limit raises it.
func TestAuthenticationBudget(t *testing.T) {
	t.Parallel()
	kind := storetest.Kinds()[0]
	e := servertest.StartWith(t, kind, func(c *config.Config) {
		c.NekzusAuthLimit = 10 // the document's, also the flag's default
		c.TrustProxyHeaders = true
	})
	e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
	from := func(ip string, more ...string) []string { return append([]string{"X-Forwarded-For", ip}, more...) }
	const ip = "198.51.100.20"
	login := map[string]string{"username": "alice", "password": "password1"}
	signIn := e.Do(t, "POST", "/api/v1/auth/login", login, from(ip)...)
	if signIn.Status != 200 {
		t.Fatalf("login: %d %s", signIn.Status, signIn.Raw)
	}
	token := signIn.JSON["access_token"].(string)
	calls := []struct {
		method, path string
		body         any
		header       []string
		status       int
	}{
		{"GET", "/api/v1/auth/setup-status", nil, nil, 200},
		{"GET", "/api/v1/auth/me", nil, servertest.Bearer(token), 200},
		{"POST", "/api/v1/auth/refresh", nil, servertest.Bearer(token), 200},
		{"POST", "/api/v1/auth/login", map[string]string{"username": "alice", "password": "wrong one"}, nil, 401},
		{"POST", "/api/v1/pair", map[string]string{"code": "ZZZZZZZZ"}, pairingHeader, 404},
		{"POST", "/api/v1/auth/pair", map[string]any{"device": map[string]string{"id": "d", "platform": "ios"}}, nil, 401},
		{"POST", "/api/v1/auth/setup", login, nil, 409},
		{"POST", "/api/v1/auth/login", login, nil, 200},
		{"POST", "/api/v1/auth/logout", nil, servertest.Bearer(token), 200},
	}
	for i, c := range calls { // the login above was the first of ten
		r := e.Do(t, c.method, c.path, c.body, from(ip, c.header...)...)
		if r.Status != c.status {
			t.Fatalf("%s %s: %d %s, want %d", c.method, c.path, r.Status, r.Raw, c.status)
		}
		if r.Header.Get("X-RateLimit-Limit") != "10" || r.Header.Get("X-RateLimit-Remaining") != strconv.Itoa(8-i) ||
			r.Header.Get("X-RateLimit-Reset") == "" {
			t.Fatalf("%s %s: rate headers %v, want 10 with %d remaining", c.method, c.path, r.Header, 8-i)
		}
	}
	over := []struct {
		method, path string
		body         any
		header       []string
		code         string
	}{
		{"POST", "/api/v1/auth/login", login, nil, "RATE_LIMIT_EXCEEDED"},
		{"GET", "/api/v1/auth/setup-status", nil, nil, "RATE_LIMIT_EXCEEDED"},
		{"POST", "/api/v1/pair", map[string]string{"code": "ZZZZZZZZ"}, pairingHeader, "RATE_LIMITED"},
	}
	for _, c := range over {
		r := e.Do(t, c.method, c.path, c.body, from(ip, c.header...)...)
		if r.Status != 429 || r.ErrorCode() != c.code {
			t.Fatalf("11th request (%s %s): %d %s, want 429 %s", c.method, c.path, r.Status, r.Raw, c.code)
		}
		if r.Header.Get("Retry-After") == "" || r.Header.Get("X-RateLimit-Limit") != "10" ||
			r.Header.Get("X-RateLimit-Remaining") != "0" || r.Header.Get("X-RateLimit-Reset") == "" {
			t.Fatalf("429 headers: %v", r.Header)
		}
		apitest.AssertShape(t, r.Raw, "testdata/seed/error.json")
	}
	if r := e.Do(t, "POST", "/api/v1/auth/login", login, from("198.51.100.21")...); r.Status != 200 {
		t.Fatalf("another address: %d %s", r.Status, r.Raw)
	}
	if r := e.Do(t, "POST", "/api/v1/auth/local/login", login, from(ip)...); r.Status != 200 || r.Header.Get("X-RateLimit-Limit") != "50" {
		t.Fatalf("GateKey's login from the same address: %d %v %s", r.Status, r.Header, r.Raw)
	}

	raised := servertest.StartWith(t, kind, func(c *config.Config) { c.NekzusAuthLimit = 12 })
	for i := range 12 {
		if r := raised.Do(t, "GET", "/api/v1/auth/setup-status", nil); r.Status != 200 || r.Header.Get("X-RateLimit-Limit") != "12" {
			t.Fatalf("request %d under a raised budget: %d %v", i+1, r.Status, r.Header)
		}
	}
	if r := raised.Do(t, "GET", "/api/v1/auth/setup-status", nil); r.Status != 429 {
		t.Fatalf("13th request under a budget of 12: %d", r.Status)
	}
}
