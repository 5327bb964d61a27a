package gatekey_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"netkeep/internal/server/servertest"
	"netkeep/internal/testpeer"
)

// gkHubNetwork is a hub network as GateKey's web UI reads it
// (MeshHubNetwork, getMeshHubNetworks).
type gkHubNetwork struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	CIDR        string `json:"cidr"`
	IsActive    bool   `json:"isActive"`
}

// TestHubNetworksUI replays the web UI's hub network access: the networks
// it lists are the hub's network spokes, the ones the hub's agent routes;
// assigning is idempotent, removing an unassigned one is not found, and
// neither another group nor a user touches them.
func TestHubNetworksUI(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		hubGW, hubTok := f.gateway(t, map[string]any{"name": "hub"})
		lan, lab := f.network(t, "10.3.0.0/16"), f.network(t, "10.4.0.0/16")
		hubID := want(t, f.do(t, f.admin, "POST", "/api/v1/admin/mesh/hubs", map[string]any{"name": "core", "gateway_id": hubGW,
			"spokes": []map[string]any{{"type": "network", "id": lan}}}), 201)["id"].(string)
		path := "/api/v1/admin/mesh/hubs/" + hubID + "/networks"
		list := func() []string {
			t.Helper()
			var ids []string
			for _, n := range listAs[gkHubNetwork](t, f.browser(t, f.admin, "GET", path, nil), "networks") {
				if n.CIDR == "" || n.Name == "" || !n.IsActive {
					t.Fatalf("network %+v", n)
				}
				ids = append(ids, n.ID)
			}
			return ids
		}
		if got := list(); len(got) != 1 || got[0] != lan {
			t.Fatalf("networks = %v, want [%s]", got, lan)
		}
		for range 2 { // GateKey assigns idempotently
			want(t, f.browser(t, f.admin, "POST", path, map[string]any{"networkId": lab}), 200)
		}
		if got := list(); len(got) != 2 {
			t.Fatalf("networks after assigning = %v", got)
		}
		f.audited(t, "mesh-hub.update", "mesh-hub:"+hubID)
		r := f.meshAgent(t, hubTok, "GET", "/api/v1/mesh-hub/routes", nil)
		if got := strings.Join(servertest.Strings(r.JSON["routes"]), ","); got != "10.3.0.0/16,10.4.0.0/16" {
			t.Fatalf("the hub routes %s", got)
		}

		foreignNet := want(t, f.do(t, f.foreign, "POST", "/api/v1/admin/networks",
			map[string]any{"name": "g", "cidr": "10.9.0.0/16", "gateway_ids": []string{}}), 201)["id"].(string)
		for _, c := range []struct {
			name, token, method, path string
			body                      any
			status                    int
		}{
			{"another group's admin lists", f.foreign, "GET", path, nil, 404},
			{"another group's admin assigns", f.foreign, "POST", path, map[string]any{"networkId": lan}, 404},
			{"another group's network", f.admin, "POST", path, map[string]any{"networkId": foreignNet}, 404},
			{"a user", f.user, "POST", path, map[string]any{"networkId": lab}, 403},
			{"no network", f.admin, "POST", path, map[string]any{}, 400},
			{"another group's admin removes", f.foreign, "DELETE", path + "/" + lab, nil, 404},
			{"an unassigned network", f.admin, "DELETE", path + "/" + foreignNet, nil, 404},
		} {
			if r := f.browser(t, c.token, c.method, c.path, c.body); r.Status != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Raw, c.status)
			}
		}
		want(t, f.browser(t, f.admin, "DELETE", path+"/"+lab, nil), 200)
		if got := list(); len(got) != 1 || got[0] != lan {
			t.Fatalf("networks after removing = %v", got)
		}
	})
}

// TestHubInstallScript: the UI's install script configures gatekey-hub
// with this server's address and the hub gateway's listener, carries no
// token, is valid bash, and runs nothing a gateway's name smuggles in.
func TestHubInstallScript(t *testing.T) {
	t.Parallel()
	bash := testpeer.Command(t, "bash", "bash")
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		hubGW, hubTok := f.gateway(t, map[string]any{"name": "hub $(touch pwned) `id` \"q\" 'x'", "port": 1195})
		hubID := want(t, f.do(t, f.admin, "POST", "/api/v1/admin/mesh/hubs", map[string]any{"name": "core", "gateway_id": hubGW}), 201)["id"].(string)
		path := "/api/v1/admin/mesh/hubs/" + hubID + "/install-script"
		r := f.browser(t, f.admin, "GET", path, nil)
		script := string(r.Raw)
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") ||
			!strings.Contains(r.Header.Get("Content-Disposition"), "install-hub-core.sh") {
			t.Fatalf("install script: %d %v", r.Status, r.Header)
		}
		for _, s := range []string{"control_plane_url: \"http", "vpn_port: 1195", "vpn_protocol: \"udp\"", "<<'EOF'"} {
			if !strings.Contains(script, s) {
				t.Errorf("the script lacks %q:\n%s", s, script)
			}
		}
		if strings.Contains(script, hubTok) {
			t.Fatal("the script carries the hub's token")
		}
		// Run it with /etc redirected into a scratch root: it writes the
		// agent's configuration with the token given and nothing else runs.
		dir := t.TempDir()
		rooted := strings.NewReplacer("/etc/", dir+"/etc/", "/var/", dir+"/var/").Replace(script)
		file := filepath.Join(dir, "install-hub.sh")
		if err := os.WriteFile(file, []byte(rooted), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bash, file, "gwt_example-token")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the script failed: %v\n%s", err, out)
		}
		conf, err := os.ReadFile(filepath.Join(dir, "etc/gatekey-hub/config.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(conf), `api_token: "gwt_example-token"`) || !strings.Contains(string(conf), "$(touch pwned)") {
			t.Fatalf("config.yaml:\n%s", conf)
		}
		if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
			t.Fatal("the gateway's name ran in the shell")
		}
		if out, err := exec.Command(bash, file).CombinedOutput(); err == nil {
			t.Fatalf("the script ran without a token: %s", out)
		}
		for _, c := range []struct {
			token  string
			status int
		}{{f.foreign, 404}, {f.user, 403}} {
			if r := f.browser(t, c.token, "GET", path, nil); r.Status != c.status {
				t.Errorf("install script: %d, want %d", r.Status, c.status)
			}
		}
	})
}

// TestHubMembersUI replays the web UI's hub access (users and groups): a
// hub with members gives its clients' rules and its use only to them;
// members come from the hub's own group; another group's admin and a
// user change nothing.
func TestHubMembersUI(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		bob := login(t, e, "bob")
		hubGW, hubTok := f.gateway(t, map[string]any{"name": "hub"})
		lan := f.network(t, "10.1.0.0/16", hubGW)
		f.rule(t, map[string]any{"network_id": lan, "user_ids": []int64{f.alice.ID, f.bob.ID}})
		hubID := want(t, f.do(t, f.admin, "POST", "/api/v1/admin/mesh/hubs", map[string]any{"name": "core", "gateway_id": hubGW}), 201)["id"].(string)
		users, groups := "/api/v1/admin/mesh/hubs/"+hubID+"/users", "/api/v1/admin/mesh/hubs/"+hubID+"/groups"
		members := func(path, key string) string {
			t.Helper()
			r := f.browser(t, f.admin, "GET", path, nil)
			if r.Status != 200 {
				t.Fatalf("GET %s: %d %s", path, r.Status, r.Raw)
			}
			return strings.Join(servertest.Strings(r.JSON[key]), ",")
		}
		// who lists the clients the hub would give rules to, and whether
		// each sees the hub among its usable ones.
		who := func() string {
			t.Helper()
			var all struct {
				ClientRules map[string][]gkHubRule `json:"clientRules"`
			}
			decodeAs(t, f.meshAgent(t, hubTok, "POST", "/api/v1/mesh-hub/all-client-rules",
				map[string]any{"clients": []string{"alice", "bob"}}), 200, &all)
			var out []string
			for _, c := range []struct{ name, token string }{{"alice", f.user}, {"bob", bob}} {
				hubs := f.do(t, c.token, "GET", "/api/v1/mesh/hubs", nil)
				if len(all.ClientRules[c.name]) > 0 != (len(hubs.JSON["data"].([]any)) == 1) {
					t.Fatalf("%s: rules %v, hubs %s", c.name, all.ClientRules[c.name], hubs.Raw)
				}
				if len(all.ClientRules[c.name]) > 0 {
					out = append(out, c.name)
				}
			}
			return strings.Join(out, ",")
		}
		if got := who(); got != "alice,bob" || members(users, "users") != "" || members(groups, "groups") != "" {
			t.Fatalf("without members: %s", got)
		}
		aliceID := fmt.Sprint(f.alice.ID)
		for _, body := range []map[string]any{{"userId": aliceID}, {"userId": f.alice.ID}} { // the UI's string, or a number: idempotent
			want(t, f.browser(t, f.admin, "POST", users, body), 200)
		}
		f.audited(t, "mesh-hub.member_add", "mesh-hub:"+hubID)
		if got := who(); got != "alice" || members(users, "users") != aliceID {
			t.Fatalf("with alice: %s, users %s", got, members(users, "users"))
		}
		want(t, f.browser(t, f.admin, "POST", groups, map[string]any{"groupName": "acme"}), 200)
		if got := who(); got != "alice,bob" || members(groups, "groups") != "acme" {
			t.Fatalf("with acme: %s", got)
		}

		audits := f.count(t, "audit_log")
		for _, c := range []struct {
			name, token, method, path string
			body                      any
			status                    int
		}{
			{"another group", f.admin, "POST", groups, map[string]any{"groupName": "globex"}, 404},
			{"another group's user", f.admin, "POST", users, map[string]any{"userId": fmt.Sprint(f.globexAdmin.ID)}, 404},
			{"no such user", f.admin, "POST", users, map[string]any{"userId": "999999"}, 404},
			{"not an id", f.admin, "POST", users, map[string]any{"userId": "alice"}, 400},
			{"no group", f.admin, "POST", groups, map[string]any{}, 400},
			{"another group's admin lists", f.foreign, "GET", users, nil, 404},
			{"another group's admin removes", f.foreign, "DELETE", users + "/" + aliceID, nil, 404},
			{"a user", f.user, "POST", groups, map[string]any{"groupName": "acme"}, 403},
			{"not a member", f.admin, "DELETE", users + "/" + fmt.Sprint(f.bob.ID), nil, 404},
			{"not a number", f.admin, "DELETE", users + "/bob", nil, 404},
		} {
			if r := f.browser(t, c.token, c.method, c.path, c.body); r.Status != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Raw, c.status)
			}
		}
		if n := f.count(t, "audit_log"); n != audits {
			t.Fatalf("refusals wrote %d audit entries", n-audits)
		}
		want(t, f.browser(t, f.admin, "DELETE", groups+"/acme", nil), 200)
		want(t, f.browser(t, f.admin, "DELETE", users+"/"+aliceID, nil), 200)
		f.audited(t, "mesh-hub.member_remove", "mesh-hub:"+hubID)
		if got := who(); got != "alice,bob" {
			t.Fatalf("without members again: %s", got)
		}
	})
}
