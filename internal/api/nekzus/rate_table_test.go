package nekzus_test

import (
	"strconv"
	"testing"

	"netkeep/internal/api/nekzus"
	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store/storetest"
)

// TestRateTable: each row of Nekzus's rate-limit table holds per client
// address on its endpoints. A burst of B is B requests at once, each
// answered with X-RateLimit-Limit B and the requests remaining; the next
// gets 429 RATE_LIMIT_EXCEEDED with Retry-After, and another address is
// not held back. (Authentication: TestAuthenticationBudget; WebSocket:
// TestStreamHandshake; container operations: internal/server.)
func TestRateTable(t *testing.T) {
	t.Parallel()
	e := servertest.StartWith(t, storetest.Kinds()[0], func(c *config.Config) { c.TrustProxyHeaders = true })
	e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
	admin, _ := e.Login(t, "alice", "password1")
	device := pairDevice(t, e, admin, "rate-phone")
	tests := []struct {
		name   string
		cat    nekzus.Category
		path   string
		header []string
	}{
		{"health checks", nekzus.LimitHealth, "/healthz", nil},
		{"metrics (general API)", nekzus.LimitGeneral, "/metrics", nil},
		{"QR code generation", nekzus.LimitQR, "/api/v1/auth/qr", servertest.Bearer(admin)},
		{"device management", nekzus.LimitDevices, "/api/v1/devices", servertest.Bearer(admin)},
		{"session cookies (general API)", nekzus.LimitGeneral, "/api/v1/session-cookies", servertest.Bearer(device)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			burst := nekzus.Limits[tt.cat].Burst
			from := func(ip string) []string { return append([]string{"X-Forwarded-For", ip}, tt.header...) }
			ip := "192.0.2." + strconv.Itoa(10+i)
			for n := range burst {
				r := e.Do(t, "GET", tt.path, nil, from(ip)...)
				if r.Status != 200 || r.Header.Get("X-RateLimit-Limit") != strconv.Itoa(burst) ||
					r.Header.Get("X-RateLimit-Remaining") != strconv.Itoa(burst-n-1) {
					t.Fatalf("request %d of %d: %d %v %s", n+1, burst, r.Status, r.Header, r.Raw)
				}
			}
			r := e.Do(t, "GET", tt.path, nil, from(ip)...)
			if r.Status != 429 || r.Header.Get("Retry-After") == "" || r.Header.Get("X-RateLimit-Remaining") != "0" {
				t.Fatalf("request %d: %d %v %s", burst+1, r.Status, r.Header, r.Raw)
			}
			if r.ErrorCode() != "RATE_LIMIT_EXCEEDED" {
				t.Fatalf("429 code: %s", r.Raw)
			}
			if r := e.Do(t, "GET", tt.path, nil, from("198.51.100."+strconv.Itoa(10+i))...); r.Status != 200 {
				t.Fatalf("another address: %d %s", r.Status, r.Raw)
			}
		})
	}
}
