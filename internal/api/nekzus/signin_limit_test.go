package nekzus_test

import (
	"testing"

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
