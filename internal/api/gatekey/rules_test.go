package gatekey_test

import (
	"testing"

	"netkeep/internal/server/servertest"
)

var (
	networkFields = []string{"id", "group_id", "name", "description", "cidr", "gateway_ids", "created_at", "updated_at", "gateway_id"}
	ruleFields    = []string{"id", "group_id", "name", "description", "network_id", "destination", "protocol", "ports",
		"user_ids", "group_ids", "enabled", "created_at", "updated_at", "allowed_cidrs", "is_active"}
)

func TestAdminNetworks(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		gw, _ := f.gateway(t, nil)
		theirs := want(t, f.do(t, f.foreign, "POST", "/api/v1/admin/gateways",
			map[string]any{"name": "g", "hostname": "g.example.com"}), 201)["id"].(string)
		for _, tc := range []struct {
			name, token string
			body        any
			status      int
			code        string
		}{
			{"201/behind a gateway", f.admin, map[string]any{"name": "office", "cidr": "10.1.0.0/16", "gateway_ids": []string{gw, gw}}, 201, ""},
			{"201/no gateway yet", f.admin, map[string]any{"name": "lab", "cidr": "fd00:1::/64"}, 201, ""},
			{"400/no cidr", f.admin, map[string]any{"name": "x"}, 400, "invalid"},
			{"400/not a cidr", f.admin, map[string]any{"name": "x", "cidr": "10.1.0.0"}, 400, "invalid"},
			{"400/host bits", f.admin, map[string]any{"name": "x", "cidr": "10.1.0.1/16"}, 400, "invalid"},
			{"400/no name", f.admin, map[string]any{"cidr": "10.1.0.0/16"}, 400, "invalid"},
			{"404/another group's gateway", f.admin, map[string]any{"name": "x", "cidr": "10.2.0.0/16", "gateway_ids": []string{theirs}}, 404, "not_found"},
			{"409/name taken", f.admin, map[string]any{"name": "office", "cidr": "10.3.0.0/16"}, 409, "conflict"},
			{"403/user", f.user, map[string]any{"name": "u", "cidr": "10.4.0.0/16"}, 403, "forbidden"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := f.do(t, tc.token, "POST", "/api/v1/admin/networks", tc.body)
				if tc.status != 201 {
					wantError(t, r, tc.status, tc.code)
					return
				}
				d := want(t, r, 201)
				wantKeys(t, "network", d, networkFields...)
				f.audited(t, "vpn-network.create", "vpn-network:"+d["id"].(string))
			})
		}
		if n := f.count(t, "vpn_networks"); n != 2 {
			t.Fatalf("%d networks stored, want 2: refused requests must store nothing", n)
		}
		r := f.do(t, f.admin, "GET", "/api/v1/admin/networks", nil)
		want(t, r, 200)
		data := r.JSON["data"].([]any)
		office := data[1].(map[string]any)
		if len(data) != 2 || office["name"] != "office" || len(office["gateway_ids"].([]any)) != 1 || office["gateway_ids"].([]any)[0] != gw {
			t.Fatalf("networks = %s", r.Raw)
		}
		path := "/api/v1/admin/networks/" + office["id"].(string)
		if r := f.do(t, f.foreign, "GET", "/api/v1/admin/networks", nil); len(r.JSON["data"].([]any)) != 0 {
			t.Fatalf("globex sees acme's networks: %s", r.Raw)
		}
		wantError(t, f.do(t, f.foreign, "GET", path, nil), 404, "not_found")
		wantError(t, f.do(t, f.foreign, "PUT", path, map[string]any{"description": "x"}, nil...), 404, "not_found")
		wantError(t, f.do(t, f.foreign, "DELETE", path, nil), 404, "not_found")
		wantError(t, f.do(t, f.admin, "PUT", path, map[string]any{"gateway_ids": []string{theirs}}), 404, "not_found")

		// A rule inside the network pins its CIDR and its existence.
		rule := f.rule(t, map[string]any{"network_id": office["id"], "destination": "10.1.2.0/24", "user_ids": []int64{f.alice.ID}})
		wantError(t, f.do(t, f.admin, "PUT", path, map[string]any{"cidr": "10.9.0.0/16"}), 409, "conflict")
		wantError(t, f.do(t, f.admin, "DELETE", path, nil), 409, "conflict")
		u := want(t, f.do(t, f.admin, "PUT", path, map[string]any{"cidr": "10.0.0.0/8", "gateway_ids": []string{}}), 200)
		if u["cidr"] != "10.0.0.0/8" || len(u["gateway_ids"].([]any)) != 0 {
			t.Fatalf("updated = %v", u)
		}
		f.audited(t, "vpn-network.update", "vpn-network:"+office["id"].(string))
		want(t, f.do(t, f.admin, "DELETE", "/api/v1/admin/access-rules/"+rule, nil), 200)
		want(t, f.do(t, f.admin, "DELETE", path, nil), 200)
		f.audited(t, "vpn-network.delete", "vpn-network:"+office["id"].(string))
		wantError(t, f.do(t, f.admin, "GET", path, nil), 404, "not_found")
	})
}

func TestAdminAccessRules(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		gw, _ := f.gateway(t, nil)
		net := f.network(t, "10.1.0.0/16", gw)
		theirNet := want(t, f.do(t, f.foreign, "POST", "/api/v1/admin/networks",
			map[string]any{"name": "n", "cidr": "10.5.0.0/16"}), 201)["id"].(string)
		alice, acme, globex := f.alice.ID, f.acmeAdmin.GroupID, f.globexAdmin.GroupID
		for _, tc := range []struct {
			name, token string
			body        map[string]any
			status      int
			code        string
			check       func(t *testing.T, d map[string]any)
		}{
			{name: "201/whole network by default", token: f.admin, status: 201,
				body: map[string]any{"network_id": net, "user_ids": []int64{alice, alice}},
				check: func(t *testing.T, d map[string]any) {
					if d["destination"] != "10.1.0.0/16" || d["protocol"] != "any" || d["ports"] != "" || d["enabled"] != true ||
						len(d["user_ids"].([]any)) != 1 {
						t.Fatalf("rule = %v", d)
					}
				}},
			{name: "201/tcp ports to a subnet for the group", token: f.admin, status: 201,
				body: map[string]any{"network_id": net, "destination": "10.1.2.0/24", "protocol": "tcp", "ports": "443, 8000-8100",
					"group_ids": []int64{acme}, "enabled": false},
				check: func(t *testing.T, d map[string]any) {
					if d["ports"] != "443,8000-8100" || d["protocol"] != "tcp" || d["enabled"] != false || d["group_ids"].([]any)[0] != float64(acme) {
						t.Fatalf("rule = %v", d)
					}
				}},
			{name: "400/no subjects", token: f.admin, body: map[string]any{"network_id": net}, status: 400, code: "invalid"},
			{name: "400/no network", token: f.admin, body: map[string]any{"user_ids": []int64{alice}}, status: 400, code: "invalid"},
			{name: "400/destination outside", token: f.admin, body: map[string]any{"network_id": net, "destination": "10.2.0.0/24", "user_ids": []int64{alice}}, status: 400, code: "invalid"},
			{name: "400/destination wider", token: f.admin, body: map[string]any{"network_id": net, "destination": "10.0.0.0/8", "user_ids": []int64{alice}}, status: 400, code: "invalid"},
			{name: "400/ports without tcp or udp", token: f.admin, body: map[string]any{"network_id": net, "ports": "22", "user_ids": []int64{alice}}, status: 400, code: "invalid"},
			{name: "400/bad port range", token: f.admin, body: map[string]any{"network_id": net, "protocol": "udp", "ports": "9-1", "user_ids": []int64{alice}}, status: 400, code: "invalid"},
			{name: "400/bad port", token: f.admin, body: map[string]any{"network_id": net, "protocol": "udp", "ports": "70000", "user_ids": []int64{alice}}, status: 400, code: "invalid"},
			{name: "400/bad protocol", token: f.admin, body: map[string]any{"network_id": net, "protocol": "gre", "user_ids": []int64{alice}}, status: 400, code: "invalid"},
			{name: "404/unknown network", token: f.admin, body: map[string]any{"network_id": "net-0000000000000000", "user_ids": []int64{alice}}, status: 404, code: "not_found"},
			{name: "404/another group's network", token: f.admin, body: map[string]any{"network_id": theirNet, "user_ids": []int64{alice}}, status: 404, code: "not_found"},
			{name: "404/another group's user", token: f.admin, body: map[string]any{"network_id": net, "user_ids": []int64{f.globexAdmin.ID}}, status: 404, code: "not_found"},
			{name: "404/another group", token: f.admin, body: map[string]any{"network_id": net, "group_ids": []int64{globex}}, status: 404, code: "not_found"},
			{name: "403/user", token: f.user, body: map[string]any{"network_id": net, "user_ids": []int64{alice}}, status: 403, code: "forbidden"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.body["name"] = tc.name
				r := f.do(t, tc.token, "POST", "/api/v1/admin/access-rules", tc.body)
				if tc.status != 201 {
					wantError(t, r, tc.status, tc.code)
					return
				}
				d := want(t, r, 201)
				wantKeys(t, "rule", d, ruleFields...)
				tc.check(t, d)
				f.audited(t, "access-rule.create", "access-rule:"+d["id"].(string))
			})
		}
		if n := f.count(t, "access_rules"); n != 2 {
			t.Fatalf("%d rules stored, want 2", n)
		}
		r := f.do(t, f.admin, "GET", "/api/v1/admin/access-rules", nil)
		want(t, r, 200)
		var id string
		for _, x := range r.JSON["data"].([]any) {
			if x := x.(map[string]any); x["name"] == "201/whole network by default" {
				id = x["id"].(string)
			}
		}
		path := "/api/v1/admin/access-rules/" + id
		want(t, f.do(t, f.admin, "GET", path, nil), 200)
		wantError(t, f.do(t, f.foreign, "GET", path, nil), 404, "not_found")
		wantError(t, f.do(t, f.foreign, "PUT", path, map[string]any{"enabled": false}), 404, "not_found")
		wantError(t, f.do(t, f.foreign, "DELETE", path, nil), 404, "not_found")
		wantError(t, f.do(t, f.user, "PUT", path, map[string]any{"enabled": false}), 403, "forbidden")
		wantError(t, f.do(t, f.admin, "PUT", path, map[string]any{"user_ids": []int64{}}), 400, "invalid")
		u := want(t, f.do(t, f.admin, "PUT", path, map[string]any{"destination": "10.1.3.0/24", "protocol": "udp", "ports": "53"}), 200)
		if u["destination"] != "10.1.3.0/24" || u["ports"] != "53" || u["user_ids"].([]any)[0] != float64(alice) {
			t.Fatalf("updated = %v", u)
		}
		f.audited(t, "access-rule.update", "access-rule:"+id)
		want(t, f.do(t, f.admin, "DELETE", path, nil), 200)
		f.audited(t, "access-rule.delete", "access-rule:"+id)
		wantError(t, f.do(t, f.admin, "DELETE", path, nil), 404, "not_found")
	})
}

// TestDefaultDeny: a user reaches nothing and sees no gateway until an
// enabled rule names it (or its group) for a network behind the gateway.
func TestDefaultDeny(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		gw, token := f.gateway(t, map[string]any{"name": "edge"})
		other, _ := f.gateway(t, map[string]any{"name": "other"})
		net := f.network(t, "10.1.0.0/16", gw)
		f.network(t, "10.2.0.0/16", other)
		cert := f.issue(t, f.alice)
		bobCert := f.issue(t, f.bob)
		verify := func(c string) *servertest.Response {
			return f.agent(t, token, "verify", map[string]any{"serial": c, "common_name": ""})
		}
		visible := func(tok string) []string {
			r := f.do(t, tok, "GET", "/api/v1/gateways", nil)
			want(t, r, 200)
			var ids []string
			for _, g := range r.JSON["data"].([]any) {
				ids = append(ids, g.(map[string]any)["id"].(string))
			}
			return ids
		}
		wantDenied := func(r *servertest.Response, reason string) {
			t.Helper()
			wantError(t, r, 403, "forbidden")
			if got := r.JSON["error"].(map[string]any)["details"].(map[string]any)["reason"]; got != reason {
				t.Fatalf("reason = %v, want %s", got, reason)
			}
		}

		// No rule: nothing.
		if ids := visible(f.user); len(ids) != 0 {
			t.Fatalf("without rules alice sees %v", ids)
		}
		wantDenied(verify(string(cert.Certificate.Serial)), "access_denied")
		// An admin of the group without a rule may not use it either.
		if ids := visible(f.admin); len(ids) != 0 {
			t.Fatalf("without rules the admin sees %v", ids)
		}

		// A rule for alice: she sees the gateway behind the network, bob not.
		rule := f.rule(t, map[string]any{"network_id": net, "destination": "10.1.2.0/24", "user_ids": []int64{f.alice.ID}})
		if ids := visible(f.user); len(ids) != 1 || ids[0] != gw {
			t.Fatalf("with a rule alice sees %v, want [%s]", ids, gw)
		}
		r := verify(string(cert.Certificate.Serial))
		if r.Status != 200 || r.JSON["allowed"] != true || r.JSON["username"] != "alice" ||
			len(r.JSON["cidrs"].([]any)) != 1 || r.JSON["cidrs"].([]any)[0] != "10.1.2.0/24" {
			t.Fatalf("verify alice = %d %s", r.Status, r.Raw)
		}
		wantDenied(verify(string(bobCert.Certificate.Serial)), "access_denied")

		// The rule's gateway only: the other gateway refuses alice.
		otherTok := want(t, f.do(t, f.admin, "POST", "/api/v1/admin/gateways/"+other+"/regenerate-token", nil), 200)["token"].(string)
		wantDenied(f.agent(t, otherTok, "verify", map[string]any{"serial": string(cert.Certificate.Serial)}), "access_denied")

		// A disabled rule grants nothing.
		want(t, f.do(t, f.admin, "PUT", "/api/v1/admin/access-rules/"+rule, map[string]any{"enabled": false}), 200)
		wantDenied(verify(string(cert.Certificate.Serial)), "access_denied")
		if ids := visible(f.user); len(ids) != 0 {
			t.Fatalf("with a disabled rule alice sees %v", ids)
		}

		// A rule for the group grants every member, bob too.
		f.rule(t, map[string]any{"network_id": net, "group_ids": []int64{f.acmeAdmin.GroupID}})
		if r := verify(string(bobCert.Certificate.Serial)); r.Status != 200 || r.JSON["cidrs"].([]any)[0] != "10.1.0.0/16" {
			t.Fatalf("verify bob by group = %d %s", r.Status, r.Raw)
		}
		if ids := visible(f.admin); len(ids) != 1 {
			t.Fatalf("the group rule should let the admin use the gateway: %v", ids)
		}
		// Another group sees none of it.
		if ids := visible(f.foreign); len(ids) != 0 {
			t.Fatalf("globex sees %v", ids)
		}
	})
}
