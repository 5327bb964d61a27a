package nekzus_test

import (
	"testing"

	"netkeep/internal/api/apitest"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// GET /api/v1/system/resources reads this host: the document's shape, with
// figures the host's own totals bound; a GROUP_ADMIN may not read it.
func TestSystemResources(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "admin", "password1", identity.GroupAdmin, "acme")
		admin, _ := e.Login(t, "admin", "password1")
		r := e.Do(t, "GET", "/api/v1/system/resources", nil, servertest.Master()...)
		if r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		apitest.AssertShape(t, r.Raw, "testdata/seed/system_resources.json")
		num := func(k string) float64 { v, _ := r.JSON[k].(float64); return v }
		if num("ram_total") <= 0 || num("ram_used") > num("ram_total") || num("disk_total") <= 0 ||
			num("ram") < 0 || num("ram") > 100 || num("cpu") < 0 || num("cpu") > 100 || num("storage_size") <= 0 {
			t.Fatalf("implausible: %s", r.Raw)
		}
		if r := e.Do(t, "GET", "/api/v1/system/resources", nil, servertest.Bearer(admin)...); r.Status != 403 || r.ErrorCode() != "FORBIDDEN" {
			t.Fatalf("group admin: %d %s", r.Status, r.Raw)
		}
	})
}
