package gatekey_test

import (
	"strings"
	"testing"

	"netkeep/internal/server/servertest"
)

// TestAllRulesHubTopology: all-rules tells a hub which spoke networks to
// route, and a spoke which networks lie behind the hub and the other
// spokes; a gateway in no hub gets none, and another group's hub never
// shows.
func TestAllRulesHubTopology(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		hub, hubToken := f.gateway(t, nil)
		site, siteToken := f.gateway(t, nil)
		_, aloneToken := f.gateway(t, nil)
		f.network(t, "10.1.0.0/16", hub)
		f.network(t, "10.2.0.0/16", site)
		lan := f.network(t, "10.3.0.0/16")
		want(t, f.do(t, f.admin, "POST", "/api/v1/admin/mesh/hubs", map[string]any{"name": "core", "gateway_id": hub,
			"spokes": []map[string]any{{"type": "gateway", "id": site}, {"type": "network", "id": lan}}}), 201)

		routes := func(token string) (roles, got []string) {
			t.Helper()
			r := f.agent(t, token, "all-rules", nil)
			if r.Status != 200 {
				t.Fatalf("all-rules: %d %s", r.Status, r.Raw)
			}
			hubs, _ := r.JSON["hubs"].([]any)
			for _, h := range hubs {
				m := h.(map[string]any)
				roles = append(roles, m["role"].(string)+":"+m["name"].(string))
				got = append(got, strings.Join(servertest.Strings(m["routes"]), ","))
			}
			return roles, got
		}
		for _, c := range []struct {
			name, token, roles, routes string
		}{
			{"the hub routes every spoke's networks", hubToken, "hub:core", "10.2.0.0/16,10.3.0.0/16"},
			{"a spoke routes the hub's and the other spokes' networks", siteToken, "spoke:core", "10.1.0.0/16,10.3.0.0/16"},
			{"a gateway in no hub", aloneToken, "", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				roles, got := routes(c.token)
				if strings.Join(roles, ";") != c.roles || strings.Join(got, ";") != c.routes {
					t.Fatalf("hubs = %v %v, want %s %s", roles, got, c.roles, c.routes)
				}
			})
		}
		// Another group's hub does not reach acme's gateways.
		_, foreignGW := func() (string, string) {
			d := want(t, f.do(t, f.foreign, "POST", "/api/v1/admin/gateways", map[string]any{"name": "g", "hostname": "g.example.com"}), 201)
			return d["id"].(string), d["token"].(string)
		}()
		if roles, _ := routes(foreignGW); len(roles) != 0 {
			t.Fatalf("globex's gateway sees hubs %v", roles)
		}
	})
}
