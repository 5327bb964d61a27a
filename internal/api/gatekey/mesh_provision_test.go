package gatekey_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"netkeep/internal/server/servertest"
)

// gkAdminProvision is gatekey-admin's ProvisionResponse (mesh hub|spoke
// provision): it prints config.
type gkAdminProvision struct {
	Gateway gkAdminGateway `json:"gateway"`
	Config  string         `json:"config"`
	Token   string         `json:"token,omitempty"`
	Message string         `json:"message"`
}

// gkMeshHub is a hub as gatekey-admin decodes it.
type gkMeshHub struct {
	ID              string    `json:"id"`
	GatewayID       string    `json:"gateway_id"`
	GatewayName     string    `json:"gateway_name,omitempty"`
	HubNetwork      string    `json:"hub_network"`
	IsProvisioned   bool      `json:"is_provisioned"`
	ConnectedSpokes int       `json:"connected_spokes"`
	CreatedAt       time.Time `json:"created_at"`
}

// gkUISpoke is a spoke as GateKey's web UI reads it (getMeshSpokes,
// getMeshSpoke, createMeshSpoke).
type gkUISpoke struct {
	ID            string   `json:"id"`
	HubID         string   `json:"hubId"`
	Name          string   `json:"name"`
	Description   string   `json:"description"`
	LocalNetworks []string `json:"localNetworks"`
	Status        string   `json:"status"`
	LastSeen      *string  `json:"lastSeen"`
	HasClientCert bool     `json:"hasClientCert"`
	CreatedAt     string   `json:"createdAt"`
	UpdatedAt     string   `json:"updatedAt"`
}

// browser is the web UI's request: a browser's User-Agent.
var browser = []string{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"}

func (f *gwFixture) browser(tb testing.TB, token, method, path string, body any) *servertest.Response {
	tb.Helper()
	return f.do(tb, token, method, path, body, browser...)
}

// heartbeatWith reports whether the gateway agent's heartbeat with token
// is accepted.
func (f *gwFixture) heartbeatWith(tb testing.TB, token string) bool {
	tb.Helper()
	r := f.agent(tb, token, "heartbeat", map[string]any{"version": "1.0.0"})
	if r.Status != http.StatusOK && r.Status != http.StatusUnauthorized {
		tb.Fatalf("heartbeat: %d %s", r.Status, r.Raw)
	}
	return r.Status == http.StatusOK
}

// TestMeshProvisionContract replays gatekey-admin's "mesh hub provision"
// and "mesh spoke provision" and the web UI's provision buttons: the node's
// gateway gets a new token in the agent's configuration, the old token
// stops working, refusals change nothing.
func TestMeshProvisionContract(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		hubGW, hubTok := f.gateway(t, map[string]any{"name": "hub-gw"})
		spokeGW, spokeTok := f.gateway(t, map[string]any{"name": "branch"})
		loneGW, _ := f.gateway(t, map[string]any{"name": "lone"})
		// gatekey-admin mesh hub create: no name (the hub is named after its
		// gateway), a hub_network that must be a CIDR and is not kept.
		gkErrorOf(t, f.program(t, f.admin, "POST", "/api/v1/admin/mesh/hubs",
			map[string]any{"gateway_id": hubGW, "hub_network": "not-a-cidr", "session_enabled": true}), 400)
		gkErrorOf(t, f.program(t, f.foreign, "POST", "/api/v1/admin/mesh/hubs",
			map[string]any{"gateway_id": hubGW, "hub_network": "10.99.0.0/24", "session_enabled": true}), 404)
		var created gkMeshHub
		decodeAs(t, f.program(t, f.admin, "POST", "/api/v1/admin/mesh/hubs",
			map[string]any{"gateway_id": hubGW, "hub_network": "10.99.0.0/24", "session_enabled": true}), 201, &created)
		if created.ID == "" || created.GatewayID != hubGW || created.CreatedAt.IsZero() {
			t.Fatalf("hub created = %+v", created)
		}
		if hubs := listAs[gkMeshHub](t, f.program(t, f.admin, "GET", "/api/v1/admin/mesh/hubs", nil), "hubs"); len(hubs) != 1 {
			t.Fatalf("hubs = %+v, want the one created", hubs)
		}
		hubID := created.ID
		decodeAs(t, f.program(t, f.admin, "POST", "/api/v1/admin/mesh/spokes", map[string]any{"hub_id": hubID, "gateway_id": spokeGW}), 201, &gkMeshSpoke{})
		hubPath := "/api/v1/admin/mesh/hubs/" + hubID + "/provision"
		spokePath := "/api/v1/admin/mesh/spokes/" + hubID + ":" + spokeGW + "/provision"

		// Refusals: another group's admin (404), a user (403), an unknown
		// hub, a gateway that is no spoke of the hub, a malformed id (404).
		for _, c := range []struct {
			token, path string
			status      int
		}{
			{f.foreign, hubPath, 404}, {f.foreign, spokePath, 404},
			{f.user, hubPath, 403}, {f.user, spokePath, 403},
			{f.admin, "/api/v1/admin/mesh/hubs/hub-0000000000000000/provision", 404},
			{f.admin, "/api/v1/admin/mesh/spokes/" + hubID + ":" + loneGW + "/provision", 404},
			{f.admin, "/api/v1/admin/mesh/spokes/no-colon/provision", 404},
		} {
			if msg := gkErrorOf(t, f.program(t, c.token, "POST", c.path, nil), c.status); msg == "" {
				t.Errorf("%s: empty error", c.path)
			}
		}
		if !f.heartbeatWith(t, hubTok) || !f.heartbeatWith(t, spokeTok) {
			t.Fatal("a refused provisioning replaced a token")
		}

		// gatekey-admin mesh hub provision.
		var hub gkAdminProvision
		decodeAs(t, f.program(t, f.admin, "POST", hubPath, nil), 200, &hub)
		if hub.Gateway.ID != hubGW || hub.Gateway.Name != "hub-gw" || hub.Token == "" || hub.Token == hubTok || hub.Message == "" ||
			!strings.Contains(hub.Config, fmt.Sprintf("token: %q", hub.Token)) ||
			!strings.Contains(hub.Config, `name: "hub-gw"`) || !strings.Contains(hub.Config, "control_plane_url: \"http") {
			t.Fatalf("hub provision = %+v", hub)
		}
		if f.heartbeatWith(t, hubTok) || !f.heartbeatWith(t, hub.Token) {
			t.Fatal("after provisioning, the old hub token works or the new one does not")
		}
		f.audited(t, "mesh.provision", "gateway:"+hubGW)

		// gatekey-admin mesh spoke provision: the spoke's gateway only.
		var spoke gkAdminProvision
		decodeAs(t, f.program(t, f.admin, "POST", spokePath, nil), 200, &spoke)
		if spoke.Gateway.ID != spokeGW || spoke.Token == "" || !strings.Contains(spoke.Config, fmt.Sprintf("token: %q", spoke.Token)) {
			t.Fatalf("spoke provision = %+v", spoke)
		}
		if f.heartbeatWith(t, spokeTok) || !f.heartbeatWith(t, spoke.Token) || !f.heartbeatWith(t, hub.Token) {
			t.Fatal("spoke provisioning: the old spoke token works, the new one does not, or the hub lost its token")
		}
		f.audited(t, "mesh.provision", "gateway:"+spokeGW)

		// The web UI reads configVersion at the top level; the seed's
		// envelope is beside it.
		r := f.browser(t, f.admin, "POST", hubPath, nil)
		if r.Status != 200 {
			t.Fatalf("UI provision: %d %s", r.Status, r.Raw)
		}
		if v, ok := r.JSON["configVersion"].(string); !ok || v == "" {
			t.Fatalf("UI provision configVersion = %v: %s", r.JSON["configVersion"], r.Raw)
		}
		if d, _ := r.JSON["data"].(map[string]any); d == nil || d["token"] != r.JSON["token"] {
			t.Fatalf("UI provision envelope: %s", r.Raw)
		}
	})
}

// TestHubSpokesUI replays GateKey's web UI's spokes under their hub: list,
// create (by the spoke's gateway's name), get; refusals change nothing and
// another group sees nothing.
func TestHubSpokesUI(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		hubGW, _ := f.gateway(t, map[string]any{"name": "hub-gw"})
		spokeGW, spokeTok := f.gateway(t, map[string]any{"name": "branch", "description": "the branch office"})
		f.network(t, "10.61.0.0/16", spokeGW)
		hubID := want(t, f.do(t, f.admin, "POST", "/api/v1/admin/mesh/hubs", map[string]any{"name": "core", "gateway_id": hubGW}), 201)["id"].(string)
		path := "/api/v1/admin/mesh/hubs/" + hubID + "/spokes"
		body := map[string]any{"name": "branch", "description": "x", "localNetworks": []string{"10.61.0.0/16"}, "sessionEnabled": true}

		spokesOf := func(token string, status int) []gkUISpoke {
			t.Helper()
			var l struct {
				Spokes []gkUISpoke `json:"spokes"`
			}
			decodeAs(t, f.browser(t, token, "GET", path, nil), status, &l)
			return l.Spokes
		}
		if l := spokesOf(f.admin, 200); len(l) != 0 {
			t.Fatalf("spokes before any = %+v", l)
		}
		for _, c := range []struct {
			token  string
			body   map[string]any
			status int
		}{
			{f.foreign, body, 404},
			{f.user, body, 403},
			{f.admin, map[string]any{"name": "nowhere", "localNetworks": []string{}}, 404},
			{f.admin, map[string]any{"name": "branch", "localNetworks": []string{"not-a-cidr"}}, 400},
			{f.admin, map[string]any{"description": "no name"}, 400},
			{f.admin, map[string]any{"name": "hub-gw"}, 400}, // a hub is not its own spoke
		} {
			if r := f.browser(t, c.token, "POST", path, c.body); r.Status != c.status {
				t.Fatalf("create %v as %s: %d %s, want %d", c.body, c.token[:8], r.Status, r.Raw, c.status)
			}
		}
		if l := spokesOf(f.admin, 200); len(l) != 0 {
			t.Fatalf("refusals left spokes: %+v", l)
		}

		var made struct {
			Spoke gkUISpoke `json:"spoke"`
		}
		decodeAs(t, f.browser(t, f.admin, "POST", path, body), 201, &made)
		s := made.Spoke
		if s.ID != hubID+":"+spokeGW || s.HubID != hubID || s.Name != "branch" || s.Description != "the branch office" ||
			fmt.Sprint(s.LocalNetworks) != "[10.61.0.0/16]" || s.Status != "pending" || s.LastSeen != nil || s.CreatedAt == "" {
			t.Fatalf("created = %+v", s)
		}
		f.audited(t, "mesh-hub.update", "mesh-hub:"+hubID)
		if r := f.browser(t, f.admin, "POST", path, body); r.Status != 409 {
			t.Fatalf("second create: %d %s", r.Status, r.Raw)
		}

		// Once the spoke's gateway heartbeats it is connected.
		if !f.heartbeatWith(t, spokeTok) {
			t.Fatal("spoke heartbeat refused")
		}
		l := spokesOf(f.admin, 200)
		if len(l) != 1 || l[0].ID != s.ID || l[0].Status != "connected" || l[0].LastSeen == nil {
			t.Fatalf("spokes = %+v", l)
		}
		if _, err := time.Parse(time.RFC3339, *l[0].LastSeen); err != nil {
			t.Fatalf("lastSeen %q: %v", *l[0].LastSeen, err)
		}
		var one struct {
			Spoke gkUISpoke `json:"spoke"`
		}
		decodeAs(t, f.browser(t, f.admin, "GET", "/api/v1/admin/mesh/spokes/"+s.ID, nil), 200, &one)
		if one.Spoke.ID != s.ID || one.Spoke.Name != "branch" {
			t.Fatalf("get = %+v", one.Spoke)
		}
		// gatekey-admin's hub_id/gateway_id spelling joins under the hub too.
		otherGW, _ := f.gateway(t, map[string]any{"name": "depot"})
		var byID gkMeshSpoke
		decodeAs(t, f.program(t, f.admin, "POST", path, map[string]any{"gateway_id": otherGW}), 201, &byID)
		if byID.GatewayID != otherGW || byID.HubID != hubID {
			t.Fatalf("created by gateway_id = %+v", byID)
		}

		// Another group: the hub is not found, nothing listed.
		spokesOf(f.foreign, 404)
		gkErrorOf(t, f.program(t, f.user, "GET", path, nil), 403)
		if l := spokesOf(f.admin, 200); len(l) != 2 {
			t.Fatalf("spokes = %+v", l)
		}
	})
}
