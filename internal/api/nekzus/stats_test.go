package nekzus_test

import (
	"regexp"
	"testing"

	"netkeep/internal/api/apitest"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

func TestStatsAndInfo(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		e.CreateUser(t, "alice", "password1", identity.GroupAdmin, "acme")
		alice, _ := e.Login(t, "alice", "password1")

		first := e.Do(t, "GET", "/api/v1/stats", nil, servertest.Bearer(alice)...)
		if first.Status != 200 {
			t.Fatalf("stats: %d %s", first.Status, first.Raw)
		}
		apitest.AssertShape(t, first.Raw, "testdata/seed/stats.json")
		stat := func(r *servertest.Response, name string) map[string]any { return r.JSON[name].(map[string]any) }
		// No catalog, discovery or paired device yet: zero, and said so.
		for name, trend := range map[string]string{"routes": "0 active", "devices": "0 online now", "discoveries": "0 pending review"} {
			if s := stat(first, name); s["value"] != float64(0) || s["trend"] != trend {
				t.Errorf("%s: %v", name, s)
			}
		}
		// Requests served grow with every request.
		second := e.Do(t, "GET", "/api/v1/stats", nil, servertest.Bearer(alice)...)
		before, after := stat(first, "requests")["value"].(float64), stat(second, "requests")["value"].(float64)
		if before < 1 || after != before+1 || stat(second, "requests")["trendUp"] != true { // the login, then the first stats
			t.Errorf("requests %v then %v", before, after)
		}

		r := e.Do(t, "GET", "/api/v1/stats/quick", nil, servertest.Bearer(alice)...)
		if r.Status != 200 {
			t.Fatalf("quick: %d %s", r.Status, r.Raw)
		}
		for _, k := range []string{"servicesTotal", "servicesOnline", "servicesOffline", "devicesTotal", "devicesOnline",
			"routesTotal", "requestsToday", "avgLatency", "uptimePercent"} {
			if _, ok := r.JSON[k].(float64); !ok {
				t.Errorf("quick stats lack %s: %s", k, r.Raw)
			}
		}
		if r.JSON["requestsToday"].(float64) <= after || r.JSON["uptimePercent"] != float64(100) || r.JSON["avgLatency"].(float64) <= 0 {
			t.Errorf("quick stats %s", r.Raw)
		}

		r = e.Do(t, "GET", "/api/v1/admin/info", nil, servertest.Bearer(alice)...)
		if r.Status != 200 {
			t.Fatalf("info: %d %s", r.Status, r.Raw)
		}
		apitest.AssertShape(t, r.Raw, "testdata/seed/admin_info.json")
		if id, _ := r.JSON["nexusId"].(string); !regexp.MustCompile(`^nexus_[0-9a-f]{12}$`).MatchString(id) || r.JSON["version"] == "" {
			t.Errorf("info %s", r.Raw)
		}
		// Every replica of one installation names it alike; another does not.
		if other := servertest.Replica(t, e).Do(t, "GET", "/api/v1/admin/info", nil, servertest.Bearer(alice)...); other.JSON["nexusId"] != r.JSON["nexusId"] {
			t.Errorf("replica's nexusId %v, want %v", other.JSON["nexusId"], r.JSON["nexusId"])
		}
		if other := servertest.Start(t, e.Kind).Do(t, "GET", "/api/v1/admin/info", nil, servertest.Master()...); other.JSON["nexusId"] == r.JSON["nexusId"] {
			t.Errorf("another installation has the same nexusId %v", other.JSON["nexusId"])
		}
	})
}
