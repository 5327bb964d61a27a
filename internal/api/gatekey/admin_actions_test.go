package gatekey_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"netkeep/internal/server/servertest"
)

// gkAuditLog is an audit entry as gatekey-admin's adminclient decodes it.
type gkAuditLog struct {
	ID         string         `json:"id"`
	Action     string         `json:"action"`
	Resource   string         `json:"resource"`
	ResourceID string         `json:"resource_id,omitempty"`
	UserID     string         `json:"user_id,omitempty"`
	UserEmail  string         `json:"user_email,omitempty"`
	IPAddress  string         `json:"ip_address,omitempty"`
	Details    map[string]any `json:"details,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
}

// gkValidation is api-key/validate's answer as "gatekey login --api-key"
// decodes it.
type gkValidation struct {
	User struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	} `json:"user"`
	APIKey struct {
		Name string `json:"name"`
	} `json:"api_key"`
}

// listAs decodes r as a program reads a list: the items under key.
func listAs[T any](tb testing.TB, r *servertest.Response, key string) []T {
	tb.Helper()
	var m map[string]json.RawMessage
	decodeAs(tb, r, http.StatusOK, &m)
	var out []T
	if err := json.Unmarshal(m[key], &out); err != nil {
		tb.Fatalf("the program could not decode %s: %v", m[key], err)
	}
	return out
}

// TestAdminActionsContract replays gatekey-admin's "connections
// disconnect", "user api-key list|create|revoke" and "audit list".
func TestAdminActionsContract(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)

		t.Run("connections disconnect", func(t *testing.T) {
			gw, token := f.gateway(t, map[string]any{"name": "edge-cut"})
			net := f.network(t, "10.50.0.0/16", gw)
			f.rule(t, map[string]any{"network_id": net, "user_ids": []int64{f.alice.ID}})
			cert := f.issue(t, f.alice)
			r := f.agent(t, token, "connect", map[string]any{"serial": string(cert.Certificate.Serial), "common_name": "alice",
				"client_ip": "198.51.100.9", "vpn_address": "10.8.0.10"})
			if r.Status != 201 {
				t.Fatalf("connect: %d %s", r.Status, r.Raw)
			}
			sid := r.JSON["id"].(string)
			a, m := dialAgent(t, e, gkChannelAuth{Token: token, NodeType: "gateway", NodeID: "edge-cut"})
			if !authReply(t, m).Success {
				t.Fatal("the agent was refused")
			}

			// Refusals first: nothing reaches the agent, nothing is audited.
			gkErrorOf(t, f.program(t, f.foreign, "POST", "/api/v1/admin/connections/"+sid+"/disconnect", nil), 404)
			gkErrorOf(t, f.program(t, f.user, "POST", "/api/v1/admin/connections/"+sid+"/disconnect", nil), 403)
			gkErrorOf(t, f.program(t, f.admin, "POST", "/api/v1/admin/connections/sess-unknown/disconnect", nil), 404)

			// The admin CLI decodes nothing on success; any 2xx will do.
			if r := f.program(t, f.admin, "POST", "/api/v1/admin/connections/"+sid+"/disconnect", nil); r.Status/100 != 2 {
				t.Fatalf("disconnect: %d %s", r.Status, r.Raw)
			}
			wantCut(t, a.next(t), sid, "alice")
			f.audited(t, "vpn-session.cut", "vpn-session:"+sid)

			// The gateway reports the end; a second disconnect finds nothing.
			if r := f.agent(t, token, "disconnect", map[string]any{"common_name": "alice"}); r.Status != 200 {
				t.Fatalf("hook disconnect: %d %s", r.Status, r.Raw)
			}
			gkErrorOf(t, f.program(t, f.admin, "POST", "/api/v1/admin/connections/"+sid+"/disconnect", nil), 404)
		})

		t.Run("user api keys", func(t *testing.T) {
			path := fmt.Sprintf("/api/v1/admin/users/%d/api-keys", f.alice.ID)
			var made struct {
				APIKey gkAPIKey `json:"api_key"`
				RawKey string   `json:"key"`
			}
			decodeAs(t, f.program(t, f.admin, "POST", path, map[string]any{
				"name": "alice-ci", "scopes": []string{"gateways:read"}, "description": ""}), 201, &made)
			if !strings.HasPrefix(made.RawKey, "gk_") || made.APIKey.UserID != fmt.Sprint(f.alice.ID) ||
				!made.APIKey.IsAdminProvisioned || made.APIKey.ProvisionedBy == nil || *made.APIKey.ProvisionedBy != fmt.Sprint(f.acmeAdmin.ID) {
				t.Fatalf("created = %+v", made)
			}
			// The key is alice's: it validates as her.
			var who gkValidation
			decodeAs(t, f.program(t, made.RawKey, "GET", "/api/v1/auth/api-key/validate", nil), 200, &who)
			if who.APIKey.Name != "alice-ci" {
				t.Fatalf("validate = %+v", who)
			}
			if list := listAs[gkAPIKey](t, f.program(t, f.admin, "GET", path, nil), "api_keys"); len(list) != 1 || list[0].ID != made.APIKey.ID {
				t.Fatalf("alice's keys = %+v", list)
			}

			gkErrorOf(t, f.program(t, f.foreign, "GET", path, nil), 404)
			gkErrorOf(t, f.program(t, f.foreign, "POST", path, map[string]any{"name": "x", "scopes": []string{"gateways:read"}}), 404)
			gkErrorOf(t, f.program(t, f.foreign, "DELETE", path, map[string]string{"reason": "x"}), 404)
			gkErrorOf(t, f.program(t, f.user, "GET", path, nil), 403)
			gkErrorOf(t, f.program(t, f.admin, "POST", path, map[string]any{"name": "x", "scopes": []string{"users:write"}}), 403)
			gkErrorOf(t, f.program(t, f.admin, "GET", "/api/v1/admin/users/999999/api-keys", nil), 404)
			if list := listAs[gkAPIKey](t, f.program(t, f.admin, "GET", path, nil), "api_keys"); len(list) != 1 {
				t.Fatalf("refused requests left keys: %+v", list)
			}

			decodeAs(t, f.program(t, f.admin, "DELETE", path, map[string]string{"reason": "offboarding"}), 200, &struct{}{})
			if r := f.program(t, made.RawKey, "GET", "/api/v1/auth/api-key/validate", nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("a revoked key: %d", r.Status)
			}
			f.audited(t, "apikey.revoke", "apikey:"+made.APIKey.ID)
		})

		t.Run("audit list", func(t *testing.T) {
			f.gateway(t, map[string]any{"name": "edge-audited"})
			logs := listAs[gkAuditLog](t, f.program(t, f.admin, "GET", "/api/v1/admin/audit?limit=500", nil), "logs")
			var created *gkAuditLog
			for i, l := range logs {
				if l.Action == "gateway.create" && created == nil {
					created = &logs[i]
				}
			}
			if created == nil || created.Resource != "gateway" || created.ResourceID == "" ||
				created.UserID != fmt.Sprint(f.acmeAdmin.ID) || created.CreatedAt.IsZero() {
				t.Fatalf("no gateway.create entry in the shape the CLI reads: %+v", created)
			}
			if one := listAs[gkAuditLog](t, f.program(t, f.admin, "GET", "/api/v1/admin/audit?limit=1", nil), "logs"); len(one) != 1 {
				t.Fatalf("limit=1 gave %d entries", len(one))
			}
			// globex sees none of acme's entries.
			for _, l := range listAs[gkAuditLog](t, f.program(t, f.foreign, "GET", "/api/v1/admin/audit?limit=1000", nil), "logs") {
				if l.ResourceID == created.ResourceID || l.UserID == fmt.Sprint(f.acmeAdmin.ID) {
					t.Fatalf("globex sees acme's entry %+v", l)
				}
			}
			gkErrorOf(t, f.program(t, f.user, "GET", "/api/v1/admin/audit", nil), 403)
			gkErrorOf(t, f.program(t, f.admin, "GET", "/api/v1/admin/audit?limit=0", nil), 400)
			// Seed clients get {data, meta}.
			r := f.do(t, f.admin, "GET", "/api/v1/admin/audit?limit=2", nil)
			if d, ok := r.JSON["data"].([]any); r.Status != 200 || !ok || len(d) != 2 || r.JSON["logs"] != nil {
				t.Fatalf("seed shape: %d %s", r.Status, r.Raw)
			}
			// meta.total counts every entry of the group (of the action,
			// when filtered), whatever the page.
			all := len(listAs[gkAuditLog](t, f.program(t, f.admin, "GET", "/api/v1/admin/audit?limit=1000", nil), "logs"))
			creates := len(listAs[gkAuditLog](t, f.program(t, f.admin, "GET", "/api/v1/admin/audit?limit=1000&action=gateway.create", nil), "logs"))
			for _, c := range []struct {
				query string
				want  int
			}{
				{"limit=1", all},
				{"limit=2&offset=1", all},
				{"limit=1&action=gateway.create", creates},
				{"limit=5&offset=100000", all},
			} {
				r := f.do(t, f.admin, "GET", "/api/v1/admin/audit?"+c.query, nil)
				meta, _ := r.JSON["meta"].(map[string]any)
				if r.Status != 200 || meta["total"] != float64(c.want) {
					t.Fatalf("%s: meta %v, want total %d (%d entries in all)", c.query, meta, c.want, all)
				}
			}
			if all < 3 || creates < 1 {
				t.Fatalf("too few entries to tell a count from a page: %d, %d gateway.create", all, creates)
			}
		})
	})
}

// gkMeshSpoke is a spoke as gatekey-admin's adminclient decodes it.
type gkMeshSpoke struct {
	ID            string    `json:"id"`
	GatewayID     string    `json:"gateway_id"`
	GatewayName   string    `json:"gateway_name,omitempty"`
	HubID         string    `json:"hub_id"`
	HubName       string    `json:"hub_name,omitempty"`
	SpokeNetwork  string    `json:"spoke_network"`
	IsProvisioned bool      `json:"is_provisioned"`
	IsConnected   bool      `json:"is_connected"`
	CreatedAt     time.Time `json:"created_at"`
}

// TestMeshSpokeContract replays gatekey-admin's "mesh spoke
// list|get|create|update|delete".
func TestMeshSpokeContract(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		hubGW, _ := f.gateway(t, map[string]any{"name": "hub-gw"})
		spokeGW, _ := f.gateway(t, map[string]any{"name": "branch"})
		f.network(t, "10.60.0.0/16", spokeGW)
		hub := want(t, f.do(t, f.admin, "POST", "/api/v1/admin/mesh/hubs", map[string]any{"name": "core", "gateway_id": hubGW}), 201)
		hubID := hub["id"].(string)
		body := map[string]any{"gateway_id": spokeGW, "hub_id": hubID, "spoke_network": "10.60.0.0/16", "session_enabled": true}

		// Refusals change nothing.
		gkErrorOf(t, f.program(t, f.foreign, "POST", "/api/v1/admin/mesh/spokes", body), 404)
		gkErrorOf(t, f.program(t, f.user, "POST", "/api/v1/admin/mesh/spokes", body), 403)
		gkErrorOf(t, f.program(t, f.admin, "POST", "/api/v1/admin/mesh/spokes",
			map[string]any{"gateway_id": spokeGW, "hub_id": hubID, "spoke_network": "not-a-cidr"}), 400)
		gkErrorOf(t, f.program(t, f.admin, "POST", "/api/v1/admin/mesh/spokes",
			map[string]any{"gateway_id": hubGW, "hub_id": hubID, "spoke_network": "10.0.0.0/8"}), 400)
		gkErrorOf(t, f.program(t, f.admin, "POST", "/api/v1/admin/mesh/spokes",
			map[string]any{"gateway_id": "gw-unknown", "hub_id": hubID, "spoke_network": "10.0.0.0/8"}), 404)

		var made gkMeshSpoke
		decodeAs(t, f.program(t, f.admin, "POST", "/api/v1/admin/mesh/spokes", body), 201, &made)
		if made.ID == "" || made.GatewayID != spokeGW || made.HubID != hubID || made.GatewayName != "branch" ||
			made.HubName != "core" || made.SpokeNetwork != "10.60.0.0/16" || made.CreatedAt.IsZero() {
			t.Fatalf("created = %+v", made)
		}
		gkErrorOf(t, f.program(t, f.admin, "POST", "/api/v1/admin/mesh/spokes", body), 409)
		f.audited(t, "mesh-hub.update", "mesh-hub:"+hubID)

		if list := listAs[gkMeshSpoke](t, f.program(t, f.admin, "GET", "/api/v1/admin/mesh/spokes", nil), "spokes"); len(list) != 1 || list[0].ID != made.ID {
			t.Fatalf("spokes = %+v", list)
		}
		if foreign := listAs[gkMeshSpoke](t, f.program(t, f.foreign, "GET", "/api/v1/admin/mesh/spokes", nil), "spokes"); len(foreign) != 0 {
			t.Fatalf("globex sees %+v", foreign)
		}
		var one gkMeshSpoke
		decodeAs(t, f.program(t, f.admin, "GET", "/api/v1/admin/mesh/spokes/"+made.ID, nil), 200, &one)
		decodeAs(t, f.program(t, f.admin, "PUT", "/api/v1/admin/mesh/spokes/"+made.ID, map[string]any{"session_enabled": false}), 200, &one)
		if one.ID != made.ID {
			t.Fatalf("updated = %+v", one)
		}
		gkErrorOf(t, f.program(t, f.foreign, "GET", "/api/v1/admin/mesh/spokes/"+made.ID, nil), 404)
		gkErrorOf(t, f.program(t, f.foreign, "DELETE", "/api/v1/admin/mesh/spokes/"+made.ID, nil), 404)
		gkErrorOf(t, f.program(t, f.admin, "GET", "/api/v1/admin/mesh/spokes/no-colon", nil), 404)

		// The hub routes the spoke's networks (all-rules' topology).
		d := want(t, f.do(t, f.admin, "GET", "/api/v1/admin/mesh/hubs/"+hubID, nil), 200)
		if sp, _ := d["spokes"].([]any); len(sp) != 1 {
			t.Fatalf("hub spokes = %v", d["spokes"])
		}
		decodeAs(t, f.program(t, f.admin, "DELETE", "/api/v1/admin/mesh/spokes/"+made.ID, nil), 200, &struct{}{})
		gkErrorOf(t, f.program(t, f.admin, "DELETE", "/api/v1/admin/mesh/spokes/"+made.ID, nil), 404)
		d = want(t, f.do(t, f.admin, "GET", "/api/v1/admin/mesh/hubs/"+hubID, nil), 200)
		if sp, _ := d["spokes"].([]any); len(sp) != 0 {
			t.Fatalf("hub spokes after delete = %v", d["spokes"])
		}
	})
}
