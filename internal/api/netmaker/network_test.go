package netmaker_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

var networkFields = []string{"netid", "displayname", "addressrange", "addressrange6", "isdualstack", "defaultlistenport",
	"defaultkeepalive", "defaultinterface", "checkininterval", "allowmanualsignup", "requireapproval",
	"keyupdatetimestamp", "nodeslastmodified", "networklastmodified", "group_id", "defaultcheckininterval"}

var nodeFields = []string{"id", "name", "network", "macaddress", "publickey", "endpoint", "listenport", "localaddress",
	"address", "address6", "allowedips", "persistentkeepalive", "interface", "lastmodified", "lastcheckin",
	"lastpeerupdate", "keyupdatetimestamp", "checkininterval", "ispending", "isegressgateway", "egressgatewayranges",
	"egressgatewayinterface", "isserver", "os", "needkeyupdate", "group_id", "isgateway", "gatewayrange", "expdatetime"}

var peerFields = []string{"id", "name", "macaddress", "publickey", "endpoint", "listenport", "address", "allowedips", "isegressgateway"}

// meshWorld is two groups with an administrator each and a USER in the
// first, logged in through the Netmaker dialect.
type meshWorld struct {
	e                    *servertest.Env
	adminA, adminB, user []string // Authorization headers
}

func newMeshWorld(t *testing.T, e *servertest.Env) *meshWorld {
	t.Helper()
	e.CreateUser(t, "ga", password, identity.GroupAdmin, "acme")
	e.CreateUser(t, "gb", password, identity.GroupAdmin, "globex")
	e.CreateUser(t, "usr", password, identity.RoleUser, "acme")
	return &meshWorld{
		e:      e,
		adminA: servertest.Bearer(authenticate(t, e, "ga", password)),
		adminB: servertest.Bearer(authenticate(t, e, "gb", password)),
		user:   servertest.Bearer(authenticate(t, e, "usr", password)),
	}
}

// network creates a network as A's administrator.
func (w *meshWorld) network(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	r := w.e.Do(t, "POST", "/api/networks", body, w.adminA...)
	if r.Status != http.StatusOK {
		t.Fatalf("creating network: %d %s", r.Status, r.Raw)
	}
	return r.JSON
}

// key creates an access key and returns its value.
func (w *meshWorld) key(t *testing.T, netid string, uses int) map[string]any {
	t.Helper()
	r := w.e.Do(t, "POST", "/api/networks/"+netid+"/keys", map[string]any{"uses": uses}, w.adminA...)
	if r.Status != http.StatusOK {
		t.Fatalf("creating key: %d %s", r.Status, r.Raw)
	}
	return r.JSON
}

func newPubkey(t *testing.T) string {
	t.Helper()
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey().String()
}

func nodeMAC(i int) string { return fmt.Sprintf("02:00:00:00:%02x:%02x", i>>8, i&0xff) }

// join joins node i with key and password "node-password-<i>", with no
// credential but the key.
func (w *meshWorld) join(t *testing.T, netid, key string, i int) map[string]any {
	t.Helper()
	r := w.e.Do(t, "POST", "/api/nodes/"+netid, map[string]any{
		"accesskey": key, "macaddress": nodeMAC(i), "publickey": newPubkey(t), "endpoint": fmt.Sprintf("203.0.113.%d", i),
		"listenport": 51821, "password": fmt.Sprint("node-password-", i), "name": fmt.Sprint("node", i),
	})
	if r.Status != http.StatusOK {
		t.Fatalf("joining node %d: %d %s", i, r.Status, r.Raw)
	}
	return r.JSON
}

// nodeToken authenticates node i.
func (w *meshWorld) nodeToken(t *testing.T, netid string, i int) []string {
	t.Helper()
	r := w.e.Do(t, "POST", "/api/nodes/adm/"+netid+"/authenticate",
		map[string]string{"macaddress": nodeMAC(i), "password": fmt.Sprint("node-password-", i)})
	if r.Status != http.StatusOK {
		t.Fatalf("authenticating node %d: %d %s", i, r.Status, r.Raw)
	}
	wantKeys(t, "authenticate", r.JSON, "Code", "Message", "Response")
	return servertest.Bearer(r.JSON["Response"].(map[string]any)["AuthToken"].(string))
}

func TestNetworksAPI(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newMeshWorld(t, e)
		// The seed's example: an empty addressrange picks one.
		r := e.Do(t, "POST", "/api/network", map[string]any{"addressrange": "", "netid": "skynet"}, w.adminA...)
		if r.Status != http.StatusOK {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		wantKeys(t, "network", r.JSON, networkFields...)
		if r.JSON["addressrange"] != "100.64.0.0/24" || r.JSON["displayname"] != "skynet" || r.JSON["defaultlistenport"] != float64(51821) {
			t.Fatalf("created %s", r.Raw)
		}
		w.network(t, map[string]any{"netid": "dual", "addressrange": "10.40.0.0/16", "addressrange6": "fd40::/64",
			"allowmanualsignup": "yes", "defaultkeepalive": 25})

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
			{name: "200/list", method: "GET", path: "/api/networks", headers: w.adminA, status: 200,
				check: func(r *servertest.Response) bool { return len(r.Array) == 2 }},
			{name: "200/list other group", method: "GET", path: "/api/networks", headers: w.adminB, status: 200,
				check: func(r *servertest.Response) bool { return len(r.Array) == 0 }},
			{name: "200/list by user", method: "GET", path: "/api/networks", headers: w.user, status: 200},
			{name: "401/list anonymous", method: "GET", path: "/api/networks", status: 401, code: "UNAUTHORIZED"},
			{name: "200/get", method: "GET", path: "/api/networks/dual", headers: w.adminA, status: 200,
				check: func(r *servertest.Response) bool {
					return r.JSON["isdualstack"] == true && r.JSON["allowmanualsignup"] == true && r.JSON["defaultkeepalive"] == float64(25)
				}},
			{name: "404/get other group", method: "GET", path: "/api/networks/dual", headers: w.adminB, status: 404, code: "NOT_FOUND"},
			{name: "404/get missing", method: "GET", path: "/api/networks/nope", headers: w.adminA, status: 404, code: "NOT_FOUND"},
			{name: "400/bad json", method: "POST", path: "/api/networks", headers: w.adminA, body: `{"netid":`, status: 400, code: "BAD_REQUEST"},
			{name: "400/bad netid", method: "POST", path: "/api/networks", headers: w.adminA, body: map[string]any{"netid": "Sky Net"}, status: 400, code: "BAD_REQUEST"},
			{name: "400/bad bool", method: "POST", path: "/api/networks", headers: w.adminA, body: map[string]any{"netid": "b", "allowmanualsignup": "maybe"}, status: 400, code: "BAD_REQUEST"},
			{name: "409/overlap", method: "POST", path: "/api/networks", headers: w.adminA, body: map[string]any{"netid": "o", "addressrange": "10.40.1.0/24"}, status: 409, code: "CONFLICT"},
			{name: "409/taken", method: "POST", path: "/api/networks", headers: w.adminB, body: map[string]any{"netid": "dual"}, status: 409, code: "CONFLICT"},
			{name: "403/create by user", method: "POST", path: "/api/networks", headers: w.user, body: map[string]any{"netid": "u"}, status: 403, code: "FORBIDDEN"},
			{name: "200/update", method: "PUT", path: "/api/networks/skynet", headers: w.adminA, body: map[string]any{"displayname": "my-house"}, status: 200,
				check: func(r *servertest.Response) bool { return r.JSON["displayname"] == "my-house" }},
			{name: "400/update netid", method: "PUT", path: "/api/networks/skynet", headers: w.adminA, body: map[string]any{"netid": "other"}, status: 400, code: "BAD_REQUEST"},
			{name: "404/update other group", method: "PUT", path: "/api/networks/skynet", headers: w.adminB, body: map[string]any{"displayname": "x"}, status: 404, code: "NOT_FOUND"},
			{name: "403/update by user", method: "PUT", path: "/api/networks/skynet", headers: w.user, body: map[string]any{"displayname": "x"}, status: 403, code: "FORBIDDEN"},
			{name: "200/keyupdate", method: "POST", path: "/api/networks/skynet/keyupdate", headers: w.adminA, status: 200,
				check: func(r *servertest.Response) bool { return r.JSON["keyupdatetimestamp"].(float64) > 0 }},
			{name: "404/keyupdate other group", method: "POST", path: "/api/networks/skynet/keyupdate", headers: w.adminB, status: 404, code: "NOT_FOUND"},
			{name: "404/delete other group", method: "DELETE", path: "/api/networks/skynet", headers: w.adminB, status: 404, code: "NOT_FOUND"},
			{name: "200/delete", method: "DELETE", path: "/api/networks/skynet", headers: w.adminA, status: 200,
				check: func(r *servertest.Response) bool { return strings.TrimSpace(string(r.Raw)) == `"success"` }},
			{name: "404/deleted", method: "GET", path: "/api/networks/skynet", headers: w.adminA, status: 404, code: "NOT_FOUND"},
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
				if r.JSON != nil && tc.method != "DELETE" {
					wantKeys(t, "network", r.JSON, networkFields...)
				}
				if tc.check != nil && !tc.check(r) {
					t.Fatalf("unexpected answer: %s", r.Raw)
				}
			})
		}

		// A network with nodes cannot be deleted; the error says why.
		k := w.key(t, "dual", 1)
		w.join(t, "dual", k["value"].(string), 1)
		r = e.Do(t, "DELETE", "/api/networks/dual", nil, w.adminA...)
		wantError(t, r, 409, "NETWORK_HAS_NODES")
		if msg := r.JSON["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "1 nodes") {
			t.Fatalf("message %q", msg)
		}
	})
}
