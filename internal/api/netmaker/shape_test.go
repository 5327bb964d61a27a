package netmaker_test

import (
	"net/http"
	"strconv"
	"testing"

	"netkeep/internal/api/apitest"
	"netkeep/internal/meshwire"
	"netkeep/internal/server/servertest"
)

// TestSeedShapes: the seed's own examples, sent verbatim, succeed, and each
// answer carries the example's fields (testdata/seed); nodes and networks
// carry the fields the era's web UI reads (testdata/netmakerui), a gateway
// showing as one by the era's names too.
func TestSeedShapes(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newMeshWorld(t, e)
		ok := func(r *servertest.Response) *servertest.Response {
			t.Helper()
			if r.Status != http.StatusOK {
				t.Fatalf("status %d: %s", r.Status, r.Raw)
			}
			return r
		}
		r := ok(e.Do(t, "POST", "/api/networks", `{"addressrange":"","netid":"skynet"}`, w.adminA...))
		apitest.AssertShape(t, r.Raw, "testdata/seed/network_create.json")
		apitest.AssertShape(t, r.Raw, "testdata/netmakerui/network.json")
		if r.JSON["defaultcheckininterval"] != r.JSON["checkininterval"] || r.JSON["defaultcheckininterval"] != float64(meshwire.DefaultCheckInInterval) {
			t.Errorf("defaultcheckininterval %v, checkininterval %v", r.JSON["defaultcheckininterval"], r.JSON["checkininterval"])
		}
		r = ok(e.Do(t, "PUT", "/api/networks/skynet", `{"displayname":"my-house"}`, w.adminA...))
		apitest.AssertShape(t, r.Raw, "testdata/seed/network_update.json")
		if r.JSON["displayname"] != "my-house" {
			t.Errorf("displayname %v after the seed's update", r.JSON["displayname"])
		}
		intervals := []struct {
			name string
			body map[string]any
			want float64 // both names, after the update
		}{
			{name: "the era's name alone", body: map[string]any{"defaultcheckininterval": 45}, want: 45},
			{name: "the era's name edited, the current one sent back", body: map[string]any{"checkininterval": 45, "defaultcheckininterval": 60}, want: 60},
			{name: "the current name edited, the era's one sent back", body: map[string]any{"checkininterval": 90, "defaultcheckininterval": 60}, want: 90},
		}
		for _, tc := range intervals {
			r := ok(e.Do(t, "PUT", "/api/networks/skynet", tc.body, w.adminA...))
			if r.JSON["checkininterval"] != tc.want || r.JSON["defaultcheckininterval"] != tc.want {
				t.Errorf("%s: checkininterval %v, defaultcheckininterval %v, want %v", tc.name,
					r.JSON["checkininterval"], r.JSON["defaultcheckininterval"], tc.want)
			}
		}
		wantError(t, e.Do(t, "PUT", "/api/networks/skynet", map[string]any{"defaultcheckininterval": 1}, w.adminA...), 400, "BAD_REQUEST")
		wantError(t, e.Do(t, "PUT", "/api/networks/skynet", map[string]any{"defaultcheckininterval": 45}, w.adminB...), 404, "NOT_FOUND")
		if r := ok(e.Do(t, "GET", "/api/networks/skynet", nil, w.adminA...)); r.JSON["checkininterval"] != float64(90) {
			t.Errorf("refused updates changed the interval: %v", r.JSON["checkininterval"])
		}
		r = ok(e.Do(t, "POST", "/api/networks/skynet/keys", `{"uses":10,"name":"mykey"}`, w.adminA...))
		apitest.AssertShape(t, r.Raw, "testdata/seed/key_create.json")

		w.join(t, "skynet", r.JSON["value"].(string), 1)
		node := "/api/nodes/skynet/" + nodeMAC(1)
		r = ok(e.Do(t, "PUT", node, `{"name":"laptop1"}`, w.adminA...))
		apitest.AssertShape(t, r.Raw, "testdata/seed/node_update.json")
		apitest.AssertShape(t, r.Raw, "testdata/netmakerui/node.json")
		if r.JSON["name"] != "laptop1" || r.JSON["expdatetime"] != float64(meshwire.NeverExpires) || r.JSON["isgateway"] != false || r.JSON["gatewayrange"] != "" {
			t.Errorf("node after the seed's update: %s", r.Raw)
		}

		tests := []struct {
			name        string
			method      string
			path        string
			body        any
			headers     []string
			status      int
			isGateway   bool
			rangeString string
		}{
			{name: "404/gateway on another group's node", method: "POST", path: node + "/creategateway",
				body: map[string]any{"rangestring": "192.168.50.0/24", "interface": "eth0"}, headers: w.adminB, status: 404},
			{name: "200/create gateway", method: "POST", path: node + "/creategateway",
				body: map[string]any{"rangestring": "192.168.50.0/24,192.168.51.0/24", "interface": "eth0"}, headers: w.adminA,
				status: 200, isGateway: true, rangeString: "192.168.50.0/24,192.168.51.0/24"},
			{name: "200/the gateway as the era reads it", method: "GET", path: node, headers: w.adminA,
				status: 200, isGateway: true, rangeString: "192.168.50.0/24,192.168.51.0/24"},
			{name: "404/delete another group's gateway", method: "DELETE", path: node + "/deletegateway", headers: w.adminB, status: 404},
			{name: "200/delete gateway", method: "DELETE", path: node + "/deletegateway", headers: w.adminA, status: 200},
			{name: "200/no longer a gateway", method: "GET", path: node, headers: w.adminA, status: 200},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, tc.method, tc.path, tc.body, tc.headers...)
				if tc.status != http.StatusOK {
					wantError(t, r, tc.status, "NOT_FOUND")
					return
				}
				ok(r)
				apitest.AssertShape(t, r.Raw, "testdata/netmakerui/node.json")
				if r.JSON["isgateway"] != tc.isGateway || r.JSON["isegressgateway"] != tc.isGateway || r.JSON["gatewayrange"] != tc.rangeString {
					t.Errorf("isgateway %v, isegressgateway %v, gatewayrange %q; want %v and %q",
						r.JSON["isgateway"], r.JSON["isegressgateway"], r.JSON["gatewayrange"], tc.isGateway, tc.rangeString)
				}
			})
		}
	})
}

// TestNodeAuthLockout: ten wrong passwords for one node answer 429
// NODE_LOCKED with Retry-After, even to the right password, while another
// node of the network still authenticates.
func TestNodeAuthLockout(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newMeshWorld(t, e)
		w.network(t, map[string]any{"netid": "locked", "addressrange": "10.62.0.0/24"})
		key := w.key(t, "locked", 2)["value"].(string)
		w.join(t, "locked", key, 1)
		w.join(t, "locked", key, 2)
		auth := func(i int, password string) *servertest.Response {
			return e.Do(t, "POST", "/api/nodes/adm/locked/authenticate", map[string]string{"macaddress": nodeMAC(i), "password": password})
		}
		for i := 1; i < 10; i++ {
			wantError(t, auth(1, "wrong-password"), http.StatusUnauthorized, "UNAUTHORIZED")
		}
		tests := []struct {
			name     string
			node     int
			password string
			status   int
		}{
			{name: "429/tenth failure", node: 1, password: "wrong-password", status: 429},
			{name: "429/right password while locked", node: 1, password: "node-password-1", status: 429},
			{name: "200/another node", node: 2, password: "node-password-2", status: 200},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := auth(tc.node, tc.password)
				if tc.status == http.StatusOK {
					if r.Status != http.StatusOK {
						t.Fatalf("status %d: %s", r.Status, r.Raw)
					}
					return
				}
				wantError(t, r, tc.status, "NODE_LOCKED")
				// The lock is 30 s, counting down while the test runs.
				if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 25 || secs > 30 {
					t.Errorf("Retry-After %q, want the lock's 30 s or a little less", r.Header.Get("Retry-After"))
				}
			})
		}
	})
}
