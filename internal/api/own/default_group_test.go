package own_test

import (
	"fmt"
	"net/http"
	"testing"

	"netkeep/internal/server/servertest"
)

// The default group is listed from the first start and keeps its name and
// existence whatever a SUPER_ADMIN asks.
func TestDefaultGroupStays(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		path := fmt.Sprintf("/api/v1/groups/%d", e.DefaultGroupID(t))
		if r := e.Do(t, "GET", path, nil, servertest.Master()...); r.Status != http.StatusOK || r.JSON["name"] != "default" {
			t.Fatalf("default group: %d %s", r.Status, r.Raw)
		}
		tests := []struct {
			name, method string
			body         any
		}{
			{"409/rename", "PUT", map[string]string{"name": "renamed"}},
			{"409/delete", "DELETE", nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, e.Do(t, tc.method, path, tc.body, servertest.Master()...), http.StatusConflict, "DEFAULT_GROUP")
			})
		}
		if r := e.Do(t, "GET", path, nil, servertest.Master()...); r.Status != http.StatusOK || r.JSON["name"] != "default" {
			t.Fatalf("default group after the refusals: %d %s", r.Status, r.Raw)
		}
	})
}
