package nekzus_test

import (
	"net/http"
	"testing"

	"netkeep/internal/api/apitest"
	"netkeep/internal/server/servertest"
)

// Every documented response of the auth endpoints shared by Nekzus and
// NetRecon carries the fields of both seeds' examples, from the first-run
// setup to the bearer refresh with its deviceId.
func TestAuthShapes(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		statusBefore := e.Do(t, "GET", "/api/v1/auth/setup-status", nil)
		setup := e.Do(t, "POST", "/api/v1/auth/setup", map[string]string{"username": "admin", "password": "long enough"})
		login := e.Do(t, "POST", "/api/v1/auth/login", map[string]string{"username": "admin", "password": "long enough"})
		token, _ := login.JSON["token"].(string)
		refresh := e.Do(t, "POST", "/api/v1/auth/refresh", nil, servertest.Bearer(token)...)
		tests := []struct {
			name   string
			r      *servertest.Response
			status int
			golden []string
		}{
			{"200/setup-status", statusBefore, 200, []string{"auth_setup_status.json"}},
			{"201/setup", setup, 201, []string{"auth_setup.json"}},
			{"200/login", login, 200, []string{"auth_login.json", "netrecon_auth_login.json"}},
			{"200/me", e.Do(t, "GET", "/api/v1/auth/me", nil, servertest.Bearer(token)...), 200, []string{"auth_me.json"}},
			{"200/refresh", refresh, 200, []string{"auth_refresh.json"}},
			{"409/second setup", e.Do(t, "POST", "/api/v1/auth/setup", map[string]string{"username": "x", "password": "long enough"}), 409, []string{"error.json"}},
			{"401/wrong password", e.Do(t, "POST", "/api/v1/auth/login", map[string]string{"username": "admin", "password": "wrong one"}), 401, []string{"error.json"}},
			{"400/missing password", e.Do(t, "POST", "/api/v1/auth/login", map[string]string{"email": "admin"}), 400, []string{"error.json"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if tc.r.Status != tc.status {
					t.Fatalf("status = %d, want %d: %s", tc.r.Status, tc.status, tc.r.Raw)
				}
				for _, g := range tc.golden {
					apitest.AssertShape(t, tc.r.Raw, "testdata/seed/"+g)
				}
			})
		}
		// The renewed token works and belongs to the same session: deviceId
		// names it, and logging it out ends the original token too.
		renewed, _ := refresh.JSON["accessToken"].(string)
		if refresh.JSON["deviceId"] == "" {
			t.Fatalf("refresh without deviceId: %s", refresh.Raw)
		}
		if r := e.Do(t, "POST", "/api/v1/auth/logout", nil, servertest.Bearer(renewed)...); r.Status != http.StatusOK {
			t.Fatalf("logout with the renewed token: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/auth/me", nil, servertest.Bearer(token)...); r.Status != http.StatusUnauthorized {
			t.Fatalf("the original token outlived its session: %d", r.Status)
		}
	})
}
