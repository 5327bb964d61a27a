package netkey_test

import (
	"net/http"
	"testing"

	"netkeep/internal/api/apitest"
	"netkeep/internal/server/servertest"
)

// TestPSKSeedShapes: the PSK responses carry every field of the NetKey
// reference's examples (testdata/seed, copied verbatim), with the same JSON
// kinds.
func TestPSKSeedShapes(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		created := e.Do(t, "POST", "/api/v1/psks", map[string]any{"psk_id": "guest-jane-doe", "description": "Guest - Jane Doe",
			"vlan_id": 100, "expires_in_hours": 24}, f.admin...)
		if created.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", created.Status, created.Raw)
		}
		path := idPath("/api/v1/psks", created.JSON)
		cases := []struct {
			name   string
			method string
			path   string
			status int
			golden string
		}{
			{"200/get", "GET", path, http.StatusOK, "psk_get.json"},
			{"200/list", "GET", "/api/v1/psks", http.StatusOK, "psk_list.json"},
			{"404/unknown PSK", "GET", "/api/v1/psks/123456", http.StatusNotFound, "error.json"},
			{"200/delete", "DELETE", path, http.StatusOK, "psk_delete.json"},
		}
		t.Run("201/create", func(t *testing.T) { apitest.AssertShape(t, created.Raw, "testdata/seed/psk_create.json") })
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, tc.method, tc.path, nil, f.admin...)
				if r.Status != tc.status {
					t.Fatalf("%s %s: %d %s", tc.method, tc.path, r.Status, r.Raw)
				}
				apitest.AssertShape(t, r.Raw, "testdata/seed/"+tc.golden)
			})
		}
	})
}
