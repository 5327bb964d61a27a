package netmaker_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"netkeep/internal/server/servertest"
)

func TestNodesAPI(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newMeshWorld(t, e)
		w.network(t, map[string]any{"netid": "skynet", "addressrange": "10.60.0.0/24", "addressrange6": "fd60::/64"})
		w.network(t, map[string]any{"netid": "gated", "addressrange": "10.61.0.0/24", "requireapproval": true})
		key := w.key(t, "skynet", 10)["value"].(string)

		// The seed's join: the access key alone authorises it.
		one := w.join(t, "skynet", key, 1)
		wantKeys(t, "node", one, nodeFields...)
		if one["address"] != "10.60.0.1" || one["address6"] != "fd60::1" || one["ispending"] != false || one["name"] != "node1" ||
			one["macaddress"] != nodeMAC(1) || one["network"] != "skynet" {
			t.Fatalf("joined %v", one)
		}
		two := w.join(t, "skynet", key, 2)
		w.join(t, "skynet", key, 3)
		nodeOne, nodeTwo := w.nodeToken(t, "skynet", 1), w.nodeToken(t, "skynet", 2)
		mac1, mac2 := nodeMAC(1), nodeMAC(2)
		node1 := "/api/nodes/skynet/" + mac1

		tests := []struct {
			name    string
			method  string
			path    string
			headers []string
			body    any
			status  int
			code    string
			check   func(r *servertest.Response) bool
		}{
			{name: "401/join without key", method: "POST", path: "/api/nodes/skynet", body: map[string]any{"macaddress": nodeMAC(9), "publickey": newPubkey(t)}, status: 401, code: "UNAUTHORIZED"},
			{name: "401/join wrong key", method: "POST", path: "/api/nodes/skynet", body: map[string]any{"accesskey": "wrongwrongwrong1", "macaddress": nodeMAC(9), "publickey": newPubkey(t)}, status: 401, code: "UNAUTHORIZED"},
			{name: "400/join bad key", method: "POST", path: "/api/nodes/skynet", body: map[string]any{"accesskey": key, "macaddress": nodeMAC(9), "publickey": "aorijqalrik3ajflaqrdajhkr"}, status: 400, code: "BAD_REQUEST"},
			{name: "400/join bad json", method: "POST", path: "/api/nodes/skynet", body: `{"accesskey":`, status: 400, code: "BAD_REQUEST"},
			{name: "409/join same mac", method: "POST", path: "/api/nodes/skynet", body: map[string]any{"accesskey": key, "macaddress": mac1, "publickey": newPubkey(t)}, status: 409, code: "CONFLICT"},
			{name: "404/join missing network", method: "POST", path: "/api/nodes/nope", body: map[string]any{"accesskey": key, "macaddress": nodeMAC(9), "publickey": newPubkey(t)}, status: 404, code: "NOT_FOUND"},
			{name: "200/join by admin without key", method: "POST", path: "/api/nodes/skynet", headers: w.adminA, body: map[string]any{"macaddress": nodeMAC(8), "publickey": newPubkey(t)}, status: 200},
			{name: "404/join by other group's admin", method: "POST", path: "/api/nodes/skynet", headers: w.adminB, body: map[string]any{"macaddress": nodeMAC(9), "publickey": newPubkey(t)}, status: 404, code: "NOT_FOUND"},

			{name: "200/list all", method: "GET", path: "/api/nodes", headers: w.adminA, status: 200, check: func(r *servertest.Response) bool { return len(r.Array) == 4 }},
			{name: "200/list other group", method: "GET", path: "/api/nodes", headers: w.adminB, status: 200, check: func(r *servertest.Response) bool { return len(r.Array) == 0 }},
			{name: "200/list network", method: "GET", path: "/api/nodes/skynet", headers: w.user, status: 200, check: func(r *servertest.Response) bool { return len(r.Array) == 4 }},
			{name: "404/list network other group", method: "GET", path: "/api/nodes/skynet", headers: w.adminB, status: 404, code: "NOT_FOUND"},
			{name: "401/list anonymous", method: "GET", path: "/api/nodes", status: 401, code: "UNAUTHORIZED"},
			{name: "401/list with node token", method: "GET", path: "/api/nodes/skynet", headers: nodeOne, status: 401, code: "UNAUTHORIZED"},

			{name: "200/get as admin", method: "GET", path: node1, headers: w.adminA, status: 200},
			{name: "200/get as itself", method: "GET", path: node1, headers: nodeOne, status: 200},
			{name: "200/get upper-case mac", method: "GET", path: "/api/nodes/skynet/" + strings.ToUpper(mac1), headers: nodeOne, status: 200},
			{name: "403/get as another node", method: "GET", path: node1, headers: nodeTwo, status: 403, code: "FORBIDDEN"},
			{name: "404/get other group", method: "GET", path: node1, headers: w.adminB, status: 404, code: "NOT_FOUND"},
			{name: "404/get missing", method: "GET", path: "/api/nodes/skynet/" + nodeMAC(99), headers: w.adminA, status: 404, code: "NOT_FOUND"},
			{name: "400/get bad mac", method: "GET", path: "/api/nodes/skynet/nonsense", headers: w.adminA, status: 400, code: "BAD_REQUEST"},
			{name: "401/get anonymous", method: "GET", path: node1, status: 401, code: "UNAUTHORIZED"},
			{name: "401/get bad token", method: "GET", path: node1, headers: servertest.Bearer("eyJhbGciOiJIUzI1NiJ9.e30.x"), status: 401, code: "UNAUTHORIZED"},

			{name: "200/update itself", method: "PUT", path: node1, headers: nodeOne, body: map[string]any{"name": "laptop1", "endpoint": "198.51.100.1", "address": "10.60.0.1"}, status: 200,
				check: func(r *servertest.Response) bool {
					return r.JSON["name"] == "laptop1" && r.JSON["endpoint"] == "198.51.100.1"
				}},
			{name: "403/readdress itself", method: "PUT", path: node1, headers: nodeOne, body: map[string]any{"address": "10.60.0.50"}, status: 403, code: "FORBIDDEN"},
			{name: "200/readdress as admin", method: "PUT", path: node1, headers: w.adminA, body: map[string]any{"address": "10.60.0.50"}, status: 200,
				check: func(r *servertest.Response) bool { return r.JSON["address"] == "10.60.0.50" }},
			{name: "409/readdress taken", method: "PUT", path: node1, headers: w.adminA, body: map[string]any{"address": two["address"]}, status: 409, code: "CONFLICT"},
			{name: "403/update another node", method: "PUT", path: "/api/nodes/skynet/" + mac2, headers: nodeOne, body: map[string]any{"name": "x"}, status: 403, code: "FORBIDDEN"},
			{name: "403/update by user", method: "PUT", path: node1, headers: w.user, body: map[string]any{"name": "x"}, status: 403, code: "FORBIDDEN"},
			{name: "400/update bad key", method: "PUT", path: node1, headers: nodeOne, body: map[string]any{"publickey": "nope"}, status: 400, code: "BAD_REQUEST"},

			{name: "200/checkin", method: "POST", path: node1 + "/checkin", headers: nodeOne, status: 200,
				check: func(r *servertest.Response) bool { return r.JSON["lastcheckin"].(float64) > 0 }},
			{name: "403/checkin another node", method: "POST", path: "/api/nodes/skynet/" + mac2 + "/checkin", headers: nodeOne, status: 403, code: "FORBIDDEN"},
			{name: "200/lastmodified as admin", method: "GET", path: "/api/nodes/adm/skynet/lastmodified", headers: w.adminA, status: 200},
			{name: "200/lastmodified as node", method: "GET", path: "/api/nodes/adm/skynet/lastmodified", headers: nodeOne, status: 200},
			{name: "403/lastmodified other network as node", method: "GET", path: "/api/nodes/adm/gated/lastmodified", headers: nodeOne, status: 403, code: "FORBIDDEN"},
			{name: "404/lastmodified other group", method: "GET", path: "/api/nodes/adm/skynet/lastmodified", headers: w.adminB, status: 404, code: "NOT_FOUND"},

			{name: "401/authenticate wrong password", method: "POST", path: "/api/nodes/adm/skynet/authenticate", body: map[string]string{"macaddress": mac1, "password": "wrong-password"}, status: 401, code: "UNAUTHORIZED"},
			{name: "400/authenticate without password", method: "POST", path: "/api/nodes/adm/skynet/authenticate", body: map[string]string{"macaddress": mac1}, status: 400, code: "BAD_REQUEST"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, tc.method, tc.path, tc.body, tc.headers...)
				if tc.status != http.StatusOK {
					wantError(t, r, tc.status, tc.code)
					return
				}
				if r.Status != http.StatusOK {
					t.Fatalf("status = %d: %s", r.Status, r.Raw)
				}
				if r.JSON != nil {
					wantKeys(t, "node", r.JSON, nodeFields...)
				}
				for _, item := range r.Array {
					wantKeys(t, "listed node", item, nodeFields...)
				}
				if tc.check != nil && !tc.check(r) {
					t.Fatalf("unexpected answer: %s", r.Raw)
				}
			})
		}

		// Views: a node reads its own peers (not itself), never another's.
		r := e.Do(t, "GET", node1+"/peers", nil, nodeOne...)
		if r.Status != 200 || len(r.Array) != 3 || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("peers: %d %s", r.Status, r.Raw)
		}
		wantKeys(t, "peer", r.Array[0], append(peerFields, "address6")...)
		if strings.Contains(string(r.Raw), one["publickey"].(string)) {
			t.Fatal("a node's view holds itself")
		}
		wantError(t, e.Do(t, "GET", "/api/nodes/skynet/"+mac2+"/peers", nil, nodeOne...), 403, "FORBIDDEN")
		wantError(t, e.Do(t, "GET", node1+"/peers", nil, w.adminB...), 404, "NOT_FOUND")
		wantError(t, e.Do(t, "GET", node1+"/peers", nil), 401, "UNAUTHORIZED")
		conf := e.Do(t, "GET", node1+"/config", nil, nodeOne...)
		if conf.Status != 200 || !strings.HasPrefix(conf.Header.Get("Content-Type"), "text/plain") ||
			!strings.Contains(string(conf.Raw), "PrivateKey = <PRIVATE KEY") || strings.Count(string(conf.Raw), "[Peer]") != 3 {
			t.Fatalf("config: %d %s", conf.Status, conf.Raw)
		}
		wantError(t, e.Do(t, "GET", "/api/nodes/skynet/"+mac2+"/config", nil, nodeOne...), 403, "FORBIDDEN")

		// Gateways: the seed's rangestring, then its ranges at every peer.
		g := e.Do(t, "POST", "/api/nodes/skynet/"+mac2+"/creategateway", map[string]any{"rangestring": "192.168.10.0/24, 172.20.0.0/16", "interface": "eth0"}, w.adminA...)
		if g.Status != 200 || g.JSON["isegressgateway"] != true || len(g.JSON["egressgatewayranges"].([]any)) != 2 {
			t.Fatalf("creategateway: %d %s", g.Status, g.Raw)
		}
		r = e.Do(t, "GET", node1+"/peers", nil, nodeOne...)
		if !strings.Contains(string(r.Raw), `"allowedips":["`+two["address"].(string)+`/32","`+two["address6"].(string)+`/128","192.168.10.0/24","172.20.0.0/16"]`) {
			t.Fatalf("gateway ranges missing from a peer's view: %s", r.Raw)
		}
		wantError(t, e.Do(t, "POST", "/api/nodes/skynet/"+mac2+"/creategateway", map[string]any{"ranges": []string{"bogus"}}, w.adminA...), 400, "BAD_REQUEST")
		wantError(t, e.Do(t, "POST", "/api/nodes/skynet/"+mac2+"/creategateway", map[string]any{"ranges": []string{"10.1.0.0/16"}}, w.user...), 403, "FORBIDDEN")
		if d := e.Do(t, "DELETE", "/api/nodes/skynet/"+mac2+"/deletegateway", nil, w.adminA...); d.Status != 200 || d.JSON["isegressgateway"] != false {
			t.Fatalf("deletegateway: %d %s", d.Status, d.Raw)
		}

		// Pending nodes: invisible until approved (approve and uncordon).
		gkey := e.Do(t, "POST", "/api/networks/gated/keys", map[string]any{"uses": 5}, w.adminA...).JSON["value"].(string)
		a := w.join(t, "gated", gkey, 20)
		b := w.join(t, "gated", gkey, 21)
		if a["ispending"] != true {
			t.Fatalf("join on an approval network: %v", a)
		}
		for _, path := range []string{"/api/nodes/gated/" + nodeMAC(20) + "/peers", "/api/nodes/gated/" + nodeMAC(21) + "/peers"} {
			if r := e.Do(t, "GET", path, nil, w.adminA...); len(r.Array) != 0 {
				t.Fatalf("pending peers visible: %s", r.Raw)
			}
		}
		if r := e.Do(t, "POST", "/api/nodes/gated/"+nodeMAC(20)+"/approve", nil, w.adminA...); r.Status != 200 || r.JSON["ispending"] != false {
			t.Fatalf("approve: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "POST", "/api/nodes/gated/"+nodeMAC(21)+"/uncordon", nil, w.adminA...); r.Status != 200 || r.JSON["ispending"] != false {
			t.Fatalf("uncordon: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "GET", "/api/nodes/gated/"+nodeMAC(20)+"/peers", nil, w.adminA...); len(r.Array) != 1 || r.Array[0].(map[string]any)["id"] != b["id"] {
			t.Fatalf("after approval: %s", r.Raw)
		}
		wantError(t, e.Do(t, "POST", "/api/nodes/gated/"+nodeMAC(20)+"/approve", nil, w.user...), 403, "FORBIDDEN")

		// Leaving: a node deletes itself; its token stops working.
		if r := e.Do(t, "DELETE", "/api/nodes/skynet/"+nodeMAC(3), nil, nodeTwo...); r.Status != 403 {
			t.Fatalf("deleting another node: %d %s", r.Status, r.Raw)
		}
		if r := e.Do(t, "DELETE", "/api/nodes/skynet/"+mac2, nil, nodeTwo...); r.Status != 200 || strings.TrimSpace(string(r.Raw)) != `"`+mac2+` deleted."` {
			t.Fatalf("leave: %d %s", r.Status, r.Raw)
		}
		wantError(t, e.Do(t, "GET", "/api/nodes/skynet/"+mac2, nil, nodeTwo...), 401, "UNAUTHORIZED")
		wantError(t, e.Do(t, "DELETE", "/api/nodes/skynet/"+mac2, nil, w.adminA...), 404, "NOT_FOUND")
	})
}

// TestNoPrivateKeys: the server joins a network with a key pair of its own;
// no answer of any mesh endpoint carries that private key, or any field
// named like a private key, a password or an access key.
func TestNoPrivateKeys(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newMeshWorld(t, e)
		w.network(t, map[string]any{"netid": "skynet"})
		key := w.key(t, "skynet", 5)["value"].(string)
		w.join(t, "skynet", key, 1)
		tok := w.nodeToken(t, "skynet", 1)
		srv := e.Do(t, "POST", "/api/server/addnetwork/skynet", nil, w.adminA...)
		if srv.Status != 200 || srv.JSON["isserver"] != true {
			t.Fatalf("addnetwork: %d %s", srv.Status, srv.Raw)
		}
		wantError(t, e.Do(t, "POST", "/api/server/addnetwork/skynet", nil, w.adminA...), 409, "CONFLICT")
		wantError(t, e.Do(t, "POST", "/api/server/addnetwork/skynet", nil, w.adminB...), 404, "NOT_FOUND")
		priv, err := e.Server.Mesh.ServerKey(context.Background(), "skynet")
		if err != nil || priv.PublicKey().String() != srv.JSON["publickey"] {
			t.Fatalf("server key: %v", err)
		}
		mac1 := nodeMAC(1)
		for _, c := range []struct {
			path    string
			headers []string
		}{
			{"/api/nodes", w.adminA}, {"/api/nodes/skynet", w.adminA}, {"/api/nodes/skynet/" + mac1, tok},
			{"/api/nodes/skynet/" + mac1 + "/peers", tok}, {"/api/nodes/skynet/" + mac1 + "/config", tok},
			{"/api/nodes/skynet/02:6e:6b:00:00:01", w.adminA}, {"/api/nodes/skynet/02:6e:6b:00:00:01/config", w.adminA},
			{"/api/networks/skynet", w.adminA},
		} {
			r := e.Do(t, "GET", c.path, nil, c.headers...)
			if r.Status != 200 {
				t.Fatalf("%s: %d %s", c.path, r.Status, r.Raw)
			}
			body := string(r.Raw)
			if strings.Contains(body, priv.String()) {
				t.Fatalf("%s returns the server's private key", c.path)
			}
			var v any
			_ = json.Unmarshal(r.Raw, &v)
			if k := secretField(v); k != "" {
				t.Fatalf("%s has a field %q", c.path, k)
			}
		}
		if r := e.Do(t, "DELETE", "/api/server/removenetwork/skynet", nil, w.adminA...); r.Status != 200 ||
			strings.TrimSpace(string(r.Raw)) != `"Server removed from network skynet"` {
			t.Fatalf("removenetwork: %d %s", r.Status, r.Raw)
		}
		wantError(t, e.Do(t, "DELETE", "/api/server/removenetwork/skynet", nil, w.adminA...), 404, "NOT_FOUND")
	})
}

// secretField returns the first key of v (recursively) that names a secret.
func secretField(v any) string {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			l := strings.ToLower(k)
			if strings.Contains(l, "private") || strings.Contains(l, "password") || l == "accesskey" {
				return k
			}
			if f := secretField(val); f != "" {
				return f
			}
		}
	case []any:
		for _, val := range x {
			if f := secretField(val); f != "" {
				return f
			}
		}
	}
	return ""
}

// TestNodeTokenWithoutPassword: a join answers the node's JWT in a header,
// and the node's own check-ins renew it, so an agent needs no password.
func TestNodeTokenWithoutPassword(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newMeshWorld(t, e)
		w.network(t, map[string]any{"netid": "nopw"})
		key := w.key(t, "nopw", 2)["value"].(string)
		r := e.Do(t, "POST", "/api/nodes/nopw", map[string]any{"accesskey": key, "macaddress": nodeMAC(1), "publickey": newPubkey(t)})
		tok := r.Header.Get("X-Node-Token")
		if r.Status != 200 || tok == "" || r.Header.Get("X-Node-Token-Expires") == "" {
			t.Fatalf("join: %d %v", r.Status, r.Header)
		}
		self := "/api/nodes/nopw/" + nodeMAC(1)
		if g := e.Do(t, "GET", self+"/peers", nil, servertest.Bearer(tok)...); g.Status != 200 {
			t.Fatalf("the join's token: %d %s", g.Status, g.Raw)
		}
		c := e.Do(t, "POST", self+"/checkin", nil, servertest.Bearer(tok)...)
		renewed := c.Header.Get("X-Node-Token")
		if c.Status != 200 || renewed == "" {
			t.Fatalf("checkin: %d %v", c.Status, c.Header)
		}
		if g := e.Do(t, "GET", self, nil, servertest.Bearer(renewed)...); g.Status != 200 {
			t.Fatalf("the renewed token: %d %s", g.Status, g.Raw)
		}
		if c := e.Do(t, "POST", self+"/checkin", nil, w.adminA...); c.Status != 200 || c.Header.Get("X-Node-Token") != "" {
			t.Fatalf("an administrator's checkin got a node token: %d %v", c.Status, c.Header)
		}
		// Without a password, authenticate refuses.
		a := e.Do(t, "POST", "/api/nodes/adm/nopw/authenticate", map[string]string{"macaddress": nodeMAC(1), "password": "anything-at-all"})
		wantError(t, a, 401, "UNAUTHORIZED")
	})
}
