package gatekey_test

import (
	"net/http"
	"testing"

	"netkeep/internal/api/apitest"
	"netkeep/internal/server/servertest"
)

// TestSeedShapes checks live responses against the GateKey seed's
// documented examples (testdata/seed, see its README): the two endpoint
// examples, the {data, meta} envelope of every list and the {data} of
// single objects, and the error envelope of refusals, including another
// group's objects. Every list is made non-empty first, so each item is
// checked.
func TestSeedShapes(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newCfgFixture(t, e)
		if r := f.agent(t, f.token, "heartbeat", map[string]any{"version": "1.0"}); r.Status != http.StatusOK {
			t.Fatalf("heartbeat: %d %s", r.Status, r.Raw)
		}
		lan := f.network(t, "192.168.40.0/24", f.gw)
		hub := want(t, f.do(t, f.admin, "POST", "/api/v1/admin/mesh/hubs",
			map[string]any{"name": "core", "gateway_id": f.gw, "spokes": []map[string]any{{"type": "network", "id": lan}}}), http.StatusCreated)["id"].(string)
		rule := f.rule(t, map[string]any{"network_id": lan, "user_ids": []int64{f.alice.ID}, "ports": "80,443", "protocol": "tcp"})
		cfg := f.generate(t, f.user)
		cert := f.issue(t, f.alice)
		if r := f.agent(t, f.token, "connect", map[string]any{"serial": string(cert.Certificate.Serial), "common_name": "alice",
			"client_ip": "198.51.100.7", "vpn_address": "10.8.0.6"}); r.Status != http.StatusCreated {
			t.Fatalf("connect: %d %s", r.Status, r.Raw)
		}
		spare, _ := f.gateway(t, nil)
		theirs := want(t, f.do(t, f.foreign, "POST", "/api/v1/admin/gateways",
			map[string]any{"name": "theirs", "hostname": "theirs.example.com"}), http.StatusCreated)["id"].(string)

		const (
			list   = "testdata/seed/response_list.json"
			object = "testdata/seed/response_object.json"
			errEnv = "testdata/seed/error.json"
		)
		for _, tc := range []struct {
			name, token, method, path string
			body                      any
			status                    int
			golden                    []string
		}{
			{"200/gateways", f.user, "GET", "/api/v1/gateways", nil, 200, []string{"testdata/seed/gateways_list.json", list}},
			{"200/generate", f.user, "POST", "/api/v1/configs/generate", map[string]any{"gateway_id": f.gw, "protocol": "openvpn"}, 200, []string{"testdata/seed/configs_generate.json"}},
			{"200/mesh hubs", f.user, "GET", "/api/v1/mesh/hubs", nil, 200, []string{list}},
			{"200/admin users", f.admin, "GET", "/api/v1/admin/users", nil, 200, []string{list}},
			{"200/admin gateways", f.admin, "GET", "/api/v1/admin/gateways", nil, 200, []string{list}},
			{"200/admin networks", f.admin, "GET", "/api/v1/admin/networks", nil, 200, []string{list}},
			{"200/admin access rules", f.admin, "GET", "/api/v1/admin/access-rules", nil, 200, []string{list}},
			{"200/admin mesh hubs", f.admin, "GET", "/api/v1/admin/mesh/hubs", nil, 200, []string{list}},
			{"200/admin configs", f.admin, "GET", "/api/v1/admin/configs", nil, 200, []string{list}},
			{"200/admin sessions", f.admin, "GET", "/api/v1/admin/sessions", nil, 200, []string{list}},
			{"200/admin gateway", f.admin, "GET", "/api/v1/admin/gateways/" + f.gw, nil, 200, []string{object}},
			{"200/admin network", f.admin, "GET", "/api/v1/admin/networks/" + lan, nil, 200, []string{object}},
			{"200/admin access rule", f.admin, "GET", "/api/v1/admin/access-rules/" + rule, nil, 200, []string{object}},
			{"200/admin mesh hub", f.admin, "GET", "/api/v1/admin/mesh/hubs/" + hub, nil, 200, []string{object}},
			{"201/create gateway", f.admin, "POST", "/api/v1/admin/gateways", map[string]any{"name": "new", "hostname": "new.example.com"}, 201, []string{object}},
			{"200/regenerate token", f.admin, "POST", "/api/v1/admin/gateways/" + spare + "/regenerate-token", nil, 200, []string{object}},
			{"200/revoke config", f.admin, "POST", "/api/v1/admin/configs/" + cfg + "/revoke", map[string]any{"reason": "superseded"}, 200, []string{object}},
			{"200/delete gateway", f.admin, "DELETE", "/api/v1/admin/gateways/" + spare, nil, 200, []string{object}},
			{"401/no credential", "", "GET", "/api/v1/gateways", nil, 401, []string{errEnv}},
			{"403/user on the admin API", f.user, "GET", "/api/v1/admin/gateways/" + f.gw, nil, 403, []string{errEnv}},
			{"404/another group's gateway", f.admin, "GET", "/api/v1/admin/gateways/" + theirs, nil, 404, []string{errEnv}},
			{"404/another group's gateway for a config", f.user, "POST", "/api/v1/configs/generate", map[string]any{"gateway_id": theirs}, 404, []string{errEnv}},
			{"400/invalid gateway", f.admin, "POST", "/api/v1/admin/gateways", map[string]any{"name": "bad", "hostname": "no spaces allowed"}, 400, []string{errEnv}},
			{"400/malformed body", f.admin, "POST", "/api/v1/admin/networks", "{", 400, []string{errEnv}},
			{"400/bad page", f.admin, "GET", "/api/v1/admin/sessions?page=0", nil, 400, []string{errEnv}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := f.do(t, tc.token, tc.method, tc.path, tc.body)
				if r.Status != tc.status {
					t.Fatalf("status = %d, want %d: %s", r.Status, tc.status, r.Raw)
				}
				if data, isList := r.JSON["data"].([]any); isList && len(data) == 0 {
					t.Fatalf("empty list: nothing to check: %s", r.Raw)
				}
				for _, g := range tc.golden {
					apitest.AssertShape(t, r.Raw, g)
				}
			})
		}
	})
}

// TestAgentShapes checks the gateway-agent answers, which the seed lists
// without examples, against the fields the agent reads: plain objects,
// never the {data} envelope, and refusals in the error envelope.
func TestAgentShapes(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newCfgFixture(t, e)
		cert := f.issue(t, f.alice)
		serial := string(cert.Certificate.Serial)
		bob := string(f.issue(t, f.bob).Certificate.Serial)
		client := map[string]any{"serial": serial, "common_name": "alice"}
		for _, tc := range []struct {
			name, endpoint, token string
			body                  any
			status                int
			fields                []string
		}{
			{"200/heartbeat", "heartbeat", f.token, map[string]any{"version": "1.0"}, 200,
				[]string{"config_version", "needs_reprovision", "ca_fingerprint"}},
			{"200/provision", "provision", f.token, nil, 200,
				[]string{"gateway_id", "hostname", "port", "protocol", "vpn_type", "vpn_subnet", "config_version", "serial", "not_after",
					"server_cert", "server_key", "ca_cert", "ca_fingerprint", "tls_crypt_key", "crl_pem", "crl_urls", "crl_number", "crl_next_update",
					"gateway_name", "vpn_network", "vpn_netmask", "vpn_port", "vpn_protocol", "crypto_profile", "tls_auth_enabled", "tls_auth_key"}},
			{"200/verify", "verify", f.token, client, 200,
				[]string{"allowed", "user_id", "username", "common_name", "serial", "expires_at", "cidrs", "rules"}},
			{"200/client rules", "client-rules", f.token, client, 200,
				[]string{"allowed", "user_id", "username", "common_name", "serial", "expires_at", "cidrs", "rules"}},
			{"200/all rules", "all-rules", f.token, nil, 200, []string{"gateway_id", "config_version", "networks", "rules", "hubs"}},
			{"201/connect", "connect", f.token, client, 201,
				[]string{"id", "gateway_id", "user_id", "username", "common_name", "serial", "client_ip", "vpn_address", "active",
					"connected_at", "disconnected_at", "bytes_received", "bytes_sent"}},
			{"401/no token", "heartbeat", "", nil, 401, []string{"error"}},
			{"403/refused client", "verify", f.token, map[string]any{"serial": bob}, 403, []string{"error"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := f.agent(t, tc.token, tc.endpoint, tc.body)
				if r.Status != tc.status {
					t.Fatalf("status = %d, want %d: %s", r.Status, tc.status, r.Raw)
				}
				wantKeys(t, tc.endpoint, r.JSON, tc.fields...)
				if tc.status >= 400 {
					apitest.AssertShape(t, r.Raw, "testdata/seed/error.json")
				}
			})
		}
	})
}
