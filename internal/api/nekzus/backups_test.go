package nekzus_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// The backups API: a SUPER_ADMIN takes, lists, reads, restores and deletes
// backups, in the shapes Nekzus answers with; a GROUP_ADMIN and a USER are
// refused; a restore brings a deleted PSK back through the running server.
func TestBackupsAPI(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "root", "password1", identity.SuperAdmin, "default")
		e.CreateUser(t, "admin", "password1", identity.GroupAdmin, "acme")
		root, _ := e.Login(t, "root", "password1")
		admin, _ := e.Login(t, "admin", "password1")
		as := servertest.Bearer(root)

		r := e.Do(t, "POST", "/api/v1/psks", map[string]any{"psk_id": "room-7", "psk_value": "correct horse battery"}, as...)
		if r.Status != http.StatusCreated {
			t.Fatalf("psk: %d %s", r.Status, r.Raw)
		}
		pskPath := fmt.Sprintf("/api/v1/psks/%d", int64(r.JSON["id"].(float64)))
		r = e.Do(t, "POST", "/api/v1/backups", map[string]any{"description": "Pre-upgrade backup"}, as...)
		if r.Status != http.StatusCreated || r.JSON["description"] != "Pre-upgrade backup" || r.JSON["trigger"] != "manual" ||
			len(r.JSON["sha256"].(string)) != 64 || r.JSON["tables"].(map[string]any)["psks"] != float64(1) {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		id := r.JSON["id"].(string)
		if !strings.HasPrefix(id, "backup_") {
			t.Fatalf("id %q", id)
		}
		if r := e.Do(t, "POST", "/api/v1/backups", nil, as...); r.Status != http.StatusCreated {
			t.Fatalf("create without a body: %d %s", r.Status, r.Raw)
		}
		r = e.Do(t, "GET", "/api/v1/backups", nil, as...)
		if r.Status != 200 || r.JSON["count"] != float64(2) || len(r.JSON["backups"].([]any)) != 2 {
			t.Fatalf("list: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/backups/"+id, nil, as...); r.Status != 200 || r.JSON["id"] != id {
			t.Fatalf("get: %d %s", r.Status, r.Raw)
		}

		refused := []struct {
			name, method, path string
			hdr                []string
			body               any
			status             int
			code               string
		}{
			{"group admin lists", "GET", "/api/v1/backups", servertest.Bearer(admin), nil, 403, "FORBIDDEN"},
			{"group admin takes", "POST", "/api/v1/backups", servertest.Bearer(admin), nil, 403, "FORBIDDEN"},
			{"group admin restores", "POST", "/api/v1/backups/" + id + "/restore", servertest.Bearer(admin), map[string]any{"restoreAll": true}, 403, "FORBIDDEN"},
			{"unknown backup", "GET", "/api/v1/backups/backup_20260101T000000Z_00000000", as, nil, 404, "BACKUP_NOT_FOUND"},
			{"malformed id", "DELETE", "/api/v1/backups/..%2F..%2Fnetkeep", as, nil, 404, "BACKUP_NOT_FOUND"},
			{"restore nothing", "POST", "/api/v1/backups/" + id + "/restore", as, map[string]any{}, 400, "BAD_REQUEST"},
			{"restore without a body", "POST", "/api/v1/backups/" + id + "/restore", as, nil, 400, "BAD_REQUEST"},
			{"long description", "POST", "/api/v1/backups", as, map[string]any{"description": strings.Repeat("x", 501)}, 400, "BAD_REQUEST"},
		}
		for _, c := range refused {
			if r := e.Do(t, c.method, c.path, c.body, c.hdr...); r.Status != c.status || r.ErrorCode() != c.code {
				t.Fatalf("%s: %d %s, want %d %s", c.name, r.Status, r.Raw, c.status, c.code)
			}
		}

		// Delete the PSK, then restore the WiFi facet (Nekzus's own
		// snake_case spelling of a flag works too).
		if r := e.Do(t, "DELETE", pskPath, nil, as...); r.Status != 200 {
			t.Fatalf("delete psk: %d %s", r.Status, r.Raw)
		}
		r = e.Do(t, "POST", "/api/v1/backups/"+id+"/restore", map[string]any{"restore_wifi": true, "restoreApps": true}, as...)
		if r.Status != 200 || r.JSON["message"] != "Backup restored successfully" || !strings.Contains(string(r.Raw), `"wifi"`) {
			t.Fatalf("restore: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "GET", pskPath, nil, as...); r.Status != 200 || r.JSON["psk_id"] != "room-7" {
			t.Fatalf("restored psk: %d %s", r.Status, r.Raw)
		}

		r = e.Do(t, "GET", "/api/v1/backups/scheduler/status", nil, as...)
		status, _ := r.JSON["status"].(map[string]any)
		if r.Status != 200 || r.JSON["enabled"] != false || status == nil || status["runs"] != float64(0) {
			t.Fatalf("status: %d %s", r.Status, r.Raw)
		}
		r = e.Do(t, "POST", "/api/v1/backups/scheduler/trigger", map[string]any{}, as...)
		if r.Status != http.StatusCreated || r.JSON["trigger"] != "scheduled" {
			t.Fatalf("trigger: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "DELETE", "/api/v1/backups/"+id, nil, as...); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/backups/"+id, nil, as...); r.Status != 404 {
			t.Fatalf("deleted backup: %d %s", r.Status, r.Raw)
		}
	})
}
