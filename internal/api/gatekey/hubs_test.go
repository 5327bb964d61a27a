package gatekey_test

import (
	"testing"

	"netkeep/internal/server/servertest"
)

var hubFields = []string{"id", "group_id", "name", "description", "gateway_id", "spokes", "created_at", "updated_at"}

func TestMeshHubs(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		hub, hubToken := f.gateway(t, map[string]any{"name": "hub"})
		site, _ := f.gateway(t, map[string]any{"name": "site"})
		lan := f.network(t, "192.168.10.0/24", hub)
		theirs := want(t, f.do(t, f.foreign, "POST", "/api/v1/admin/gateways",
			map[string]any{"name": "g", "hostname": "g.example.com"}), 201)["id"].(string)
		spokes := []map[string]any{{"type": "network", "id": lan}, {"type": "gateway", "id": site}}
		for _, tc := range []struct {
			name, token string
			body        map[string]any
			status      int
			code        string
		}{
			{"201/hub with spokes", f.admin, map[string]any{"name": "core", "gateway_id": hub, "spokes": spokes}, 201, ""},
			{"201/no spokes", f.admin, map[string]any{"name": "lonely", "gateway_id": site}, 201, ""},
			{"400/no gateway", f.admin, map[string]any{"name": "x"}, 400, "invalid"},
			{"400/no name", f.admin, map[string]any{"gateway_id": hub}, 400, "invalid"},
			{"400/own spoke", f.admin, map[string]any{"name": "x", "gateway_id": hub, "spokes": []map[string]any{{"type": "gateway", "id": hub}}}, 400, "invalid"},
			{"400/spoke type", f.admin, map[string]any{"name": "x", "gateway_id": hub, "spokes": []map[string]any{{"type": "vlan", "id": "1"}}}, 400, "invalid"},
			{"404/unknown gateway", f.admin, map[string]any{"name": "x", "gateway_id": "gw-0000000000000000"}, 404, "not_found"},
			{"404/another group's gateway", f.admin, map[string]any{"name": "x", "gateway_id": theirs}, 404, "not_found"},
			{"404/another group's spoke", f.admin, map[string]any{"name": "x", "gateway_id": hub, "spokes": []map[string]any{{"type": "gateway", "id": theirs}}}, 404, "not_found"},
			{"409/name taken", f.admin, map[string]any{"name": "core", "gateway_id": site}, 409, "conflict"},
			{"403/user", f.user, map[string]any{"name": "u", "gateway_id": hub}, 403, "forbidden"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := f.do(t, tc.token, "POST", "/api/v1/admin/mesh/hubs", tc.body)
				if tc.status != 201 {
					wantError(t, r, tc.status, tc.code)
					return
				}
				d := want(t, r, 201)
				wantKeys(t, "hub", d, hubFields...)
				f.audited(t, "mesh-hub.create", "mesh-hub:"+d["id"].(string))
			})
		}
		if n := f.count(t, "mesh_hubs"); n != 2 {
			t.Fatalf("%d hubs stored, want 2", n)
		}
		r := f.do(t, f.admin, "GET", "/api/v1/admin/mesh/hubs", nil)
		want(t, r, 200)
		core := r.JSON["data"].([]any)[0].(map[string]any)
		if core["name"] != "core" || len(core["spokes"].([]any)) != 2 {
			t.Fatalf("hubs = %s", r.Raw)
		}
		wantKeys(t, "spoke", core["spokes"].([]any)[0], "type", "id")
		path := "/api/v1/admin/mesh/hubs/" + core["id"].(string)
		if r := f.do(t, f.foreign, "GET", "/api/v1/admin/mesh/hubs", nil); len(r.JSON["data"].([]any)) != 0 {
			t.Fatalf("globex sees acme's hubs: %s", r.Raw)
		}
		wantError(t, f.do(t, f.foreign, "GET", path, nil), 404, "not_found")
		wantError(t, f.do(t, f.foreign, "PUT", path, map[string]any{"description": "x"}), 404, "not_found")
		wantError(t, f.do(t, f.foreign, "DELETE", path, nil), 404, "not_found")
		wantError(t, f.do(t, f.user, "GET", path, nil), 403, "forbidden")

		// Users see the hubs whose gateway they may use.
		users := func(tok string) int {
			r := f.do(t, tok, "GET", "/api/v1/mesh/hubs", nil)
			want(t, r, 200)
			wantKeys(t, "body", r.JSON, "data", "meta")
			return len(r.JSON["data"].([]any))
		}
		if n := users(f.user); n != 0 {
			t.Fatalf("without a rule alice sees %d hubs", n)
		}
		f.rule(t, map[string]any{"network_id": lan, "user_ids": []int64{f.alice.ID}})
		if n := users(f.user); n != 1 {
			t.Fatalf("with a rule alice sees %d hubs, want 1", n)
		}
		if n := users(f.foreign); n != 0 {
			t.Fatalf("globex sees %d hubs", n)
		}

		// Hub changes raise the hub gateway's config version.
		v := f.agent(t, hubToken, "heartbeat", nil).JSON["config_version"].(float64)
		u := want(t, f.do(t, f.admin, "PUT", path, map[string]any{"spokes": []map[string]any{{"type": "network", "id": lan}}}), 200)
		if len(u["spokes"].([]any)) != 1 {
			t.Fatalf("updated = %v", u)
		}
		f.audited(t, "mesh-hub.update", "mesh-hub:"+core["id"].(string))
		if nv := f.agent(t, hubToken, "heartbeat", nil).JSON["config_version"].(float64); nv != v+1 {
			t.Fatalf("hub version %v after a change, want %v", nv, v+1)
		}

		// A hub's gateway cannot be deleted before the hub; a spoke's can.
		wantError(t, f.do(t, f.admin, "DELETE", "/api/v1/admin/gateways/"+hub, nil), 409, "conflict")
		want(t, f.do(t, f.admin, "DELETE", path, nil), 200)
		f.audited(t, "mesh-hub.delete", "mesh-hub:"+core["id"].(string))
		wantError(t, f.do(t, f.admin, "GET", path, nil), 404, "not_found")
		want(t, f.do(t, f.admin, "DELETE", "/api/v1/admin/gateways/"+hub, nil), 200)
	})
}
