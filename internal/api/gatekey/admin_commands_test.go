package gatekey_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"netkeep/internal/server/servertest"
)

// gkRemoteSessionAgent is a connected agent as gatekey-admin's
// "remote-session agents" decodes it.
type gkRemoteSessionAgent struct {
	AgentID     string    `json:"agentId"`
	NodeType    string    `json:"nodeType"`
	NodeID      string    `json:"nodeId"`
	NodeName    string    `json:"nodeName"`
	ConnectedAt time.Time `json:"connected"`
}

// configStatus returns the status of configuration id in the admin list.
func (f *gwFixture) configStatus(tb testing.TB, id string) string {
	tb.Helper()
	r := f.do(tb, f.admin, "GET", "/api/v1/admin/configs?per_page=100", nil)
	if r.Status != http.StatusOK {
		tb.Fatalf("admin configs: %d %s", r.Status, r.Raw)
	}
	for _, c := range r.JSON["data"].([]any) {
		if c := c.(map[string]any); c["id"] == id {
			return c["status"].(string)
		}
	}
	tb.Fatalf("configuration %s is not listed: %s", id, r.Raw)
	return ""
}

// TestAdminCommandsContract replays gatekey-admin's "gateway reprovision",
// "user get", "user revoke-configs" and "remote-session agents".
func TestAdminCommandsContract(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newCfgFixture(t, e)

		t.Run("gateway reprovision", func(t *testing.T) {
			gw, token := f.gateway(t, map[string]any{"name": "edge-reprovision"})
			first := f.agent(t, token, "provision", nil)
			if first.Status != 200 {
				t.Fatalf("provision: %d %s", first.Status, first.Raw)
			}
			hb := f.agent(t, token, "heartbeat", nil)
			if hb.JSON["needs_reprovision"] != false {
				t.Fatalf("after provisioning: %s", hb.Raw)
			}
			version := hb.JSON["config_version"].(float64)

			// Refusals first: nothing changes, nothing is audited.
			path := "/api/v1/admin/gateways/" + gw + "/reprovision"
			gkErrorOf(t, f.program(t, f.foreign, "POST", path, nil), 404)
			gkErrorOf(t, f.program(t, f.user, "POST", path, nil), 403)
			gkErrorOf(t, f.program(t, f.admin, "POST", "/api/v1/admin/gateways/gw-0000000000000000/reprovision", nil), 404)
			if r := f.agent(t, token, "heartbeat", nil); r.JSON["needs_reprovision"] != false || r.JSON["config_version"] != version {
				t.Fatalf("after refused requests: %s", r.Raw)
			}

			var got gkAdminProvision
			decodeAs(t, f.program(t, f.admin, "POST", path, nil), 200, &got)
			if got.Gateway.Name != "edge-reprovision" || got.Gateway.ID != gw || got.Message == "" || !got.Gateway.IsProvisioned {
				t.Fatalf("reprovision = %+v", got)
			}
			f.audited(t, "gateway.reprovision", "gateway:"+gw)
			// The gateway still serves with its certificate until it
			// provisions; its heartbeat asks it to.
			chk := e.Do(t, "GET", "/api/v1/pki/check/"+first.JSON["serial"].(string), nil)
			if chk.JSON["revoked"] != false {
				t.Fatalf("the current certificate was revoked by the request: %s", chk.Raw)
			}
			hb = f.agent(t, token, "heartbeat", nil)
			if hb.JSON["needs_reprovision"] != true || hb.JSON["config_version"] != version+1 {
				t.Fatalf("after reprovision: %s", hb.Raw)
			}
			// Provisioning supersedes the old certificate and ends the request.
			if p := f.agent(t, token, "provision", nil); p.Status != 200 || p.JSON["serial"] == first.JSON["serial"] {
				t.Fatalf("provision again: %d %s", p.Status, p.Raw)
			}
			chk = e.Do(t, "GET", "/api/v1/pki/check/"+first.JSON["serial"].(string), nil)
			if chk.JSON["revoked"] != true || chk.JSON["reason"] != "superseded" {
				t.Fatalf("old certificate: %s", chk.Raw)
			}
			if r := f.agent(t, token, "heartbeat", nil); r.JSON["needs_reprovision"] != false {
				t.Fatalf("after provisioning again: %s", r.Raw)
			}

			// The seed's clients get the documented envelope.
			d := want(t, f.do(t, f.admin, "POST", path, nil), 200)
			if d["config_version"] != version+2 || d["gateway"].(map[string]any)["id"] != gw {
				t.Fatalf("seed answer: %v", d)
			}
		})

		t.Run("user get", func(t *testing.T) {
			path := fmt.Sprintf("/api/v1/admin/users/%d", f.alice.ID)
			var u gkUser
			decodeAs(t, f.program(t, f.admin, "GET", path, nil), 200, &u)
			if u.ID != fmt.Sprint(f.alice.ID) || u.IsAdmin || !u.IsActive || len(u.Groups) != 1 || u.Groups[0] != "acme" ||
				u.CreatedAt.IsZero() || u.UpdatedAt.IsZero() {
				t.Fatalf("user get = %+v", u)
			}
			// The same user the list shows.
			var found bool
			for _, l := range listAs[gkUser](t, f.program(t, f.admin, "GET", "/api/v1/admin/users", nil), "users") {
				found = found || l.ID == u.ID && l.Email == u.Email && l.Name == u.Name
			}
			if !found {
				t.Fatalf("user get %+v differs from the list", u)
			}
			if d := want(t, f.do(t, f.admin, "GET", path, nil), 200); d["id"] != float64(f.alice.ID) || d["username"] != "alice" {
				t.Fatalf("seed answer: %v", d)
			}

			gkErrorOf(t, f.program(t, f.foreign, "GET", path, nil), 404)
			gkErrorOf(t, f.program(t, f.user, "GET", path, nil), 403)
			gkErrorOf(t, f.program(t, f.admin, "GET", "/api/v1/admin/users/999999", nil), 404)
			gkErrorOf(t, f.program(t, f.admin, "GET", "/api/v1/admin/users/not-a-number", nil), 404)
		})

		t.Run("user revoke-configs", func(t *testing.T) {
			path := fmt.Sprintf("/api/v1/admin/users/%d/revoke-configs", f.alice.ID)
			first, second := f.generate(t, f.user), f.generate(t, f.user)
			// Another user's configuration stays: bob's, through a gateway of its own.
			gw2, _ := f.gateway(t, map[string]any{"name": "edge-bob"})
			f.rule(t, map[string]any{"network_id": f.network(t, "10.31.0.0/16", gw2), "user_ids": []int64{f.bob.ID}})
			bob := login(t, e, "bob")
			g := f.do(t, bob, "POST", "/api/v1/configs/generate", map[string]any{"gateway_id": gw2, "protocol": "openvpn"})
			if g.Status != http.StatusOK {
				t.Fatalf("generate as bob: %d %s", g.Status, g.Raw)
			}
			own := g.JSON["config_id"].(string)

			// Refusals first: every configuration stays live.
			gkErrorOf(t, f.program(t, f.foreign, "POST", path, nil), 404)
			gkErrorOf(t, f.program(t, f.user, "POST", path, nil), 403)
			gkErrorOf(t, f.program(t, f.admin, "POST", "/api/v1/admin/users/999999/revoke-configs", nil), 404)
			gkErrorOf(t, f.program(t, f.admin, "POST", path, map[string]string{"reason": "not a reason"}), 400)
			for _, id := range []string{first, second, own} {
				if s := f.configStatus(t, id); s != "active" {
					t.Fatalf("%s is %s after refused requests", id, s)
				}
			}

			// gatekey-admin decodes nothing; GateKey's server answers the count.
			r := f.program(t, f.admin, "POST", path, nil)
			if r.Status != 200 || r.JSON["success"] != true || r.JSON["revokedCount"] != float64(2) {
				t.Fatalf("revoke-configs: %d %s", r.Status, r.Raw)
			}
			for id, status := range map[string]string{first: "revoked", second: "revoked", own: "active"} {
				if s := f.configStatus(t, id); s != status {
					t.Fatalf("%s is %s, want %s", id, s, status)
				}
				if status == "revoked" {
					f.audited(t, "config.revoke", "vpn-config:"+id)
				}
			}
			if d := f.do(t, f.user, "GET", "/api/v1/configs/download/"+first, nil); d.Status/100 == 2 {
				t.Fatalf("a revoked configuration downloads: %d", d.Status)
			}
			// Nothing left: a second call revokes nothing.
			if d := want(t, f.do(t, f.admin, "POST", path, map[string]string{"reason": "keyCompromise"}), 200); d["revokedCount"] != float64(0) {
				t.Fatalf("second call: %v", d)
			}
		})

		t.Run("remote-session agents", func(t *testing.T) {
			const path = "/api/v1/admin/remote-session/agents"
			gw, token := f.gateway(t, map[string]any{"name": "edge-session"})
			before := time.Now().Add(-time.Second)
			a, m := dialAgent(t, e, gkChannelAuth{Token: token, NodeType: "gateway", NodeID: "edge-session", NodeName: "Edge Session"})
			if !authReply(t, m).Success {
				t.Fatal("the agent was refused")
			}
			agents := listAs[gkRemoteSessionAgent](t, f.program(t, f.admin, "GET", path, nil), "agents")
			if len(agents) != 1 || agents[0].AgentID != gw || agents[0].NodeType != "gateway" || agents[0].NodeID != "edge-session" ||
				agents[0].NodeName != "Edge Session" || agents[0].ConnectedAt.Before(before) || agents[0].ConnectedAt.After(time.Now()) {
				t.Fatalf("agents = %+v", agents)
			}
			// Another group sees none of them; a USER may not look.
			if other := listAs[gkRemoteSessionAgent](t, f.program(t, f.foreign, "GET", path, nil), "agents"); len(other) != 0 {
				t.Fatalf("another group sees %+v", other)
			}
			gkErrorOf(t, f.program(t, f.user, "GET", path, nil), 403)

			// A closed channel leaves the list.
			_ = a.ws.CloseNow()
			servertest.Eventually(t, 10*time.Second, func() bool {
				return len(listAs[gkRemoteSessionAgent](t, f.program(t, f.admin, "GET", path, nil), "agents")) == 0
			}, "the closed channel leaves the list")
		})
	})
}
