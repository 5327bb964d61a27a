package gatekey_test

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/audit"
	"netkeep/internal/server/servertest"
	"netkeep/internal/testpeer"
)

// wgFixture is a gwFixture with one WireGuard gateway (subnet given) whose
// agent has reported its public key, and access rules granting alice two
// destinations behind it; bob has a rule for a third network only.
type wgFixture struct {
	*gwFixture
	gw, token string
	gwKey     wgtypes.Key // the gateway's public key
}

func newWGFixture(t *testing.T, e *servertest.Env, subnet string) *wgFixture {
	t.Helper()
	f := &wgFixture{gwFixture: newGWFixture(t, e)}
	f.gw, f.token = f.gateway(t, map[string]any{"name": "wg office", "hostname": "wg.example.com", "port": 51820,
		"vpn_type": "wireguard", "vpn_subnet": subnet})
	office := f.network(t, "10.20.0.0/16", f.gw)
	lab := f.network(t, "192.168.50.0/24", f.gw)
	other := f.network(t, "172.16.0.0/12", f.gw)
	f.rule(t, map[string]any{"network_id": office, "user_ids": []int64{f.alice.ID}})
	f.rule(t, map[string]any{"network_id": lab, "destination": "192.168.50.0/25", "user_ids": []int64{f.alice.ID}})
	f.rule(t, map[string]any{"network_id": other, "user_ids": []int64{f.bob.ID}})
	return f
}

// report makes the gateway's agent report a fresh public key.
func (f *wgFixture) report(tb testing.TB) {
	tb.Helper()
	priv, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		tb.Fatal(err)
	}
	f.gwKey = priv.PublicKey()
	if r := f.agent(tb, f.token, "heartbeat", map[string]any{"public_key": f.gwKey.String()}); r.Status != http.StatusOK {
		tb.Fatalf("heartbeat: %d %s", r.Status, r.Raw)
	}
}

// generate asks for a WireGuard config as token and returns its id.
func (f *wgFixture) generate(tb testing.TB, token string) string {
	tb.Helper()
	r := f.do(tb, token, "POST", "/api/v1/configs/generate", map[string]any{"gateway_id": f.gw, "protocol": "wireguard"})
	if r.Status != http.StatusOK {
		tb.Fatalf("generate: %d %s", r.Status, r.Raw)
	}
	return r.JSON["config_id"].(string)
}

// peers returns the gateway's peer list: public key -> allowed IPs.
func (f *wgFixture) peers(tb testing.TB) (map[string]string, map[string]any) {
	tb.Helper()
	r := f.agent(tb, f.token, "wireguard-peers", nil)
	if r.Status != http.StatusOK {
		tb.Fatalf("wireguard-peers: %d %s", r.Status, r.Raw)
	}
	out := map[string]string{}
	for _, p := range r.JSON["peers"].([]any) {
		p := p.(map[string]any)
		out[p["public_key"].(string)] = fmt.Sprint(p["allowed_ips"])
	}
	return out, r.JSON
}

// wgFile is a parsed wg-quick file: "Section.Key" -> value, and the order
// of its non-comment lines.
type wgFile struct {
	values map[string]string
	lines  []string
}

func parseWGQuick(tb testing.TB, text string) wgFile {
	tb.Helper()
	f := wgFile{values: map[string]string{}}
	section := ""
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, " = ")
			if !ok || section == "" {
				tb.Fatalf("malformed line %q in:\n%s", line, text)
			}
			if _, dup := f.values[section+"."+k]; dup {
				tb.Fatalf("duplicate %s.%s in:\n%s", section, k, text)
			}
			f.values[section+"."+k] = v
			k = section + "." + k
			line = k
		}
		f.lines = append(f.lines, line)
	}
	return f
}

// derivePublic runs `wg pubkey` on a private key.
func derivePublic(tb testing.TB, wg, private string) string {
	tb.Helper()
	cmd := exec.Command(wg, "pubkey")
	cmd.Stdin = strings.NewReader(private + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("wg pubkey: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestWireGuardConfigGenerateAndDownload(t *testing.T) {
	t.Parallel()
	wg := testpeer.Command(t, "wg", "wireguard-tools")
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newWGFixture(t, e, "10.9.0.0/24")
		body := map[string]any{"gateway_id": f.gw, "protocol": "wireguard"}

		// Before its agent reports a key there is nothing to put in [Peer].
		wantError(t, f.do(t, f.user, "POST", "/api/v1/configs/generate", body), http.StatusConflict, "gateway_key_missing")
		if n, l := f.count(t, "vpn_configs"), f.count(t, "wireguard_leases"); n != 0 || l != 0 {
			t.Fatalf("a refused generation left %d configs and %d leases", n, l)
		}
		f.report(t)
		version := f.agent(t, f.token, "heartbeat", nil).JSON["config_version"].(float64)

		before := time.Now()
		r := f.do(t, f.user, "POST", "/api/v1/configs/generate", map[string]any{"gateway_id": f.gw}) // protocol defaults to the gateway's
		if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" || len(r.JSON) != 6 || r.JSON["fileName"] != "wg-office.conf" {
			t.Fatalf("generate: %d %s", r.Status, r.Raw)
		}
		id := r.JSON["config_id"].(string)
		if r.JSON["download_url"] != "/api/v1/configs/download/"+id {
			t.Fatalf("download_url %v", r.JSON["download_url"])
		}
		exp, err := time.Parse(time.RFC3339, r.JSON["expires_at"].(string))
		if err != nil || exp.Before(before.Add(23*time.Hour)) || exp.After(time.Now().Add(25*time.Hour)) {
			t.Fatalf("expires_at %v (%v), want about 24 h from now", r.JSON["expires_at"], err)
		}
		f.audited(t, "config.generate", "vpn-config:"+id)
		if v := f.agent(t, f.token, "heartbeat", nil).JSON["config_version"].(float64); v <= version {
			t.Errorf("config_version %v after a new peer, was %v: the agent would not refresh", v, version)
		}
		second := f.generate(t, f.user)

		d := f.do(t, f.user, "GET", "/api/v1/configs/download/"+id, nil)
		if d.Status != http.StatusOK {
			t.Fatalf("download: %d %s", d.Status, d.Raw)
		}
		for h, v := range map[string]string{
			"Content-Type":        "text/plain; charset=utf-8",
			"Content-Disposition": `attachment; filename="wg-office.conf"`,
			"Cache-Control":       "no-store",
		} {
			if got := d.Header.Get(h); got != v {
				t.Errorf("%s = %q, want %q", h, got, v)
			}
		}
		text := string(d.Raw)
		if !strings.HasPrefix(text, "# netkeep config "+id+" for gateway wg office ("+f.gw+"), expires ") {
			t.Errorf("first line of:\n%s", text)
		}
		file := parseWGQuick(t, text)
		wantLines := []string{"[Interface]", "Interface.PrivateKey", "Interface.Address",
			"[Peer]", "Peer.PublicKey", "Peer.Endpoint", "Peer.AllowedIPs", "Peer.PersistentKeepalive"}
		if fmt.Sprint(file.lines) != fmt.Sprint(wantLines) {
			t.Errorf("lines %v, want %v:\n%s", file.lines, wantLines, text)
		}
		for k, v := range map[string]string{
			"Interface.Address":        "10.9.0.2/32", // the first host after the gateway's 10.9.0.1
			"Peer.PublicKey":           f.gwKey.String(),
			"Peer.Endpoint":            "wg.example.com:51820",
			"Peer.AllowedIPs":          "10.20.0.0/16, 192.168.50.0/25", // alice's rules, not bob's 172.16.0.0/12
			"Peer.PersistentKeepalive": "25",
		} {
			if file.values[k] != v {
				t.Errorf("%s = %q, want %q", k, file.values[k], v)
			}
		}
		priv, err := wgtypes.ParseKey(file.values["Interface.PrivateKey"])
		if err != nil {
			t.Fatalf("PrivateKey: %v", err)
		}
		pub := derivePublic(t, wg, priv.String())
		if pub != priv.PublicKey().String() {
			t.Fatalf("wg pubkey says %s, wgtypes %s", pub, priv.PublicKey())
		}
		f.audited(t, "config.download", "vpn-config:"+id)

		// The second config has its own address and key.
		file2 := parseWGQuick(t, string(f.do(t, f.user, "GET", "/api/v1/configs/download/"+second, nil).Raw))
		if file2.values["Interface.Address"] != "10.9.0.3/32" || file2.values["Interface.PrivateKey"] == priv.String() {
			t.Errorf("second config: %v", file2.values)
		}
		pub2 := derivePublic(t, wg, file2.values["Interface.PrivateKey"])

		// The gateway's peers are exactly the two clients, each its /32.
		peers, set := f.peers(t)
		if fmt.Sprint(peers) != fmt.Sprint(map[string]string{pub: "[10.9.0.2/32]", pub2: "[10.9.0.3/32]"}) {
			t.Errorf("peers %v", peers)
		}
		if set["gateway_id"] != f.gw || set["public_key"] != f.gwKey.String() || set["address"] != "10.9.0.1/24" || set["listen_port"] != float64(51820) {
			t.Errorf("peer set %v", set)
		}

		// The admin listing shows the public half and address, never the
		// private key; nothing stored or audited holds it in clear.
		list := f.do(t, f.admin, "GET", "/api/v1/admin/configs?gateway_id="+f.gw, nil)
		if list.Status != http.StatusOK || strings.Contains(string(list.Raw), priv.String()) ||
			!strings.Contains(string(list.Raw), `"public_key":"`+pub+`"`) || !strings.Contains(string(list.Raw), `"address":"10.9.0.2/32"`) {
			t.Errorf("admin listing: %d %s", list.Status, list.Raw)
		}
		var sealed []byte
		var storedKey, storedAddr string
		if err := e.DB.SQL().QueryRow("SELECT key_sealed, wg_public_key, wg_address FROM vpn_configs WHERE id = $1", id).
			Scan(&sealed, &storedKey, &storedAddr); err != nil {
			t.Fatal(err)
		}
		if len(sealed) == 0 || strings.Contains(string(sealed), priv.String()) || storedKey != pub || storedAddr != "10.9.0.2/32" {
			t.Errorf("stored: sealed %d bytes (readable: %v), key %s, address %s", len(sealed), strings.Contains(string(sealed), priv.String()), storedKey, storedAddr)
		}
		entries, err := e.DB.Read().ListAudit(context.Background(), audit.Query{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range entries {
			if strings.Contains(a.Details, priv.String()) {
				t.Errorf("audit entry %s holds the private key", a.Action)
			}
		}

		// Another user's config, another group, the group's admin: 404.
		dl := "/api/v1/configs/download/" + id
		wantError(t, f.do(t, login(t, e, "bob"), "GET", dl, nil), 404, "not_found")
		wantError(t, f.do(t, f.foreign, "GET", dl, nil), 404, "not_found")
		wantError(t, f.do(t, f.admin, "GET", dl, nil), 404, "not_found")

		// Revocation drops the peer and frees its address for the next one.
		wantError(t, f.do(t, f.foreign, "POST", "/api/v1/admin/configs/"+id+"/revoke", nil), 404, "not_found")
		rv := want(t, f.do(t, f.admin, "POST", "/api/v1/admin/configs/"+id+"/revoke", nil), http.StatusOK)
		if rv["status"] != "revoked" || rv["serial"] != nil {
			t.Errorf("revoked config %v", rv)
		}
		f.audited(t, "config.revoke", "vpn-config:"+id)
		if peers, _ := f.peers(t); fmt.Sprint(peers) != fmt.Sprint(map[string]string{pub2: "[10.9.0.3/32]"}) {
			t.Errorf("peers after revocation %v", peers)
		}
		wantError(t, f.do(t, f.user, "GET", dl, nil), 404, "config_revoked")
		third := f.generate(t, f.user)
		if a := parseWGQuick(t, string(f.do(t, f.user, "GET", "/api/v1/configs/download/"+third, nil).Raw)).values["Interface.Address"]; a != "10.9.0.2/32" {
			t.Errorf("address after a revocation %s, want the freed 10.9.0.2/32", a)
		}

		// An expired config leaves the peers, and its address is reused.
		past := time.Now().Add(-time.Second).UTC()
		for _, q := range []string{"UPDATE vpn_configs SET expires_at = $1 WHERE id = $2", "UPDATE wireguard_leases SET expires_at = $1 WHERE config_id = $2"} {
			if _, err := e.DB.SQL().Exec(q, past, second); err != nil {
				t.Fatal(err)
			}
		}
		if peers, _ := f.peers(t); len(peers) != 1 || peers[pub2] != "" {
			t.Errorf("peers after expiry %v", peers)
		}
		wantError(t, f.do(t, f.user, "GET", "/api/v1/configs/download/"+second, nil), 404, "config_expired")
		fourth := f.generate(t, f.user)
		if a := parseWGQuick(t, string(f.do(t, f.user, "GET", "/api/v1/configs/download/"+fourth, nil).Raw)).values["Interface.Address"]; a != "10.9.0.3/32" {
			t.Errorf("address after an expiry %s, want the freed 10.9.0.3/32", a)
		}

		// A config outlives no change of the gateway's VPN type.
		want(t, f.do(t, f.admin, "PUT", "/api/v1/admin/gateways/"+f.gw, map[string]any{"vpn_type": "openvpn"}), http.StatusOK)
		wantError(t, f.do(t, f.user, "GET", "/api/v1/configs/download/"+fourth, nil), 404, "config_stale")
		wantError(t, f.agent(t, f.token, "wireguard-peers", nil), 400, "invalid")
		want(t, f.do(t, f.admin, "PUT", "/api/v1/admin/gateways/"+f.gw, map[string]any{"vpn_type": "wireguard"}), http.StatusOK)

		// A user who loses access loses the peers too.
		rules := f.do(t, f.admin, "GET", "/api/v1/admin/access-rules?per_page=100", nil)
		for _, r := range rules.JSON["data"].([]any) {
			r := r.(map[string]any)
			if fmt.Sprint(r["user_ids"]) == fmt.Sprintf("[%d]", f.alice.ID) {
				want(t, f.do(t, f.admin, "DELETE", "/api/v1/admin/access-rules/"+r["id"].(string), nil), http.StatusOK)
			}
		}
		if peers, _ := f.peers(t); len(peers) != 0 {
			t.Errorf("peers of a user without access %v", peers)
		}
	})
}

func TestWireGuardPeersErrors(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newWGFixture(t, e, "10.9.0.0/24")
		other, otherToken := f.gateway(t, map[string]any{"vpn_type": "wireguard"})
		_, ovpnToken := f.gateway(t, nil)
		wantError(t, f.agent(t, "", "wireguard-peers", nil), 401, "unauthorized")
		wantError(t, f.agent(t, "gwt_bogus", "wireguard-peers", nil), 401, "unauthorized")
		wantError(t, f.do(t, f.admin, "POST", "/api/v1/gateway/wireguard-peers", nil), 401, "unauthorized") // a user's token is no gateway token
		wantError(t, f.agent(t, f.token, "wireguard-peers", map[string]any{"gateway_id": other}), 403, "forbidden")
		wantError(t, f.agent(t, ovpnToken, "wireguard-peers", nil), 400, "invalid")
		// Another gateway's list does not hold this gateway's clients.
		f.report(t)
		f.generate(t, f.user)
		r := f.agent(t, otherToken, "wireguard-peers", nil)
		if r.Status != http.StatusOK || fmt.Sprint(r.JSON["peers"]) != "[]" {
			t.Errorf("another gateway's peers: %d %s", r.Status, r.Raw)
		}
	})
}

func TestWireGuardSubnetExhausted(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		// A /30 has two hosts: the gateway's and one client's.
		f := newWGFixture(t, e, "10.9.0.0/30")
		f.report(t)
		id := f.generate(t, f.user)
		configs := f.count(t, "vpn_configs")
		body := map[string]any{"gateway_id": f.gw, "protocol": "wireguard"}
		wantError(t, f.do(t, f.user, "POST", "/api/v1/configs/generate", body), http.StatusConflict, "subnet_exhausted")
		if n := f.count(t, "vpn_configs"); n != configs {
			t.Errorf("a refused generation left %d configs", n-configs)
		}
		want(t, f.do(t, f.admin, "POST", "/api/v1/admin/configs/"+id+"/revoke", nil), http.StatusOK)
		f.generate(t, f.user)
	})
}

// TestWireGuardOpenAPI validates the WireGuard requests and responses,
// successes and errors, against the OpenAPI document.
func TestWireGuardOpenAPI(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	_, v := openAPI(t, e)
	f := newWGFixture(t, e, "10.9.0.0/30")
	user, admin := servertest.Bearer(f.user), servertest.Bearer(f.admin)
	token := []string{"X-Gateway-Token", f.token}
	body := map[string]any{"gateway_id": f.gw, "protocol": "wireguard"}
	wantError(t, f.do(t, f.user, "POST", "/api/v1/configs/generate", body), http.StatusConflict, "gateway_key_missing")
	f.report(t)
	id := f.generate(t, f.user)
	for _, c := range []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
	}{
		{"generate/exhausted", "POST", "/api/v1/configs/generate", body, user, 409},
		{"download", "GET", "/api/v1/configs/download/" + id, nil, user, 200},
		{"admin configs", "GET", "/api/v1/admin/configs", nil, admin, 200},
		{"peers", "POST", "/api/v1/gateway/wireguard-peers", map[string]any{}, token, 200},
		{"peers/no token", "POST", "/api/v1/gateway/wireguard-peers", map[string]any{}, nil, 401},
		{"revoke", "POST", "/api/v1/admin/configs/" + id + "/revoke", map[string]any{}, admin, 200},
		{"generate", "POST", "/api/v1/configs/generate", body, user, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, res := exchange(t, e, c.method, c.path, c.body, c.headers...)
			if res.StatusCode != c.status {
				t.Fatalf("%d, want %d", res.StatusCode, c.status)
			}
			validate := v.ValidateHttpResponse
			if res.StatusCode < 300 {
				validate = v.ValidateHttpRequestResponse
			}
			if ok, errs := validate(req, res); !ok {
				for _, err := range errs {
					t.Errorf("%s: %s (%v)", err.Message, err.Reason, err.SchemaValidationErrors)
				}
			}
		})
	}
}

// TestWireGuardConcurrentGeneration: generations racing on one gateway
// (across PostgreSQL connections too) each get their own address.
func TestWireGuardConcurrentGeneration(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newWGFixture(t, e, "10.9.0.0/24")
		f.report(t)
		const n = 8
		body := map[string]any{"gateway_id": f.gw, "protocol": "wireguard"}
		results := make(chan *servertest.Response, n)
		for range n {
			go func() { results <- f.do(t, f.user, "POST", "/api/v1/configs/generate", body) }()
		}
		for range n {
			if r := <-results; r.Status != http.StatusOK {
				t.Errorf("generate: %d %s", r.Status, r.Raw)
			}
		}
		peers, _ := f.peers(t)
		addrs := map[string]bool{}
		for _, a := range peers {
			addrs[a] = true
		}
		if len(peers) != n || len(addrs) != n {
			t.Errorf("%d peers with %d distinct addresses, want %d: %v", len(peers), len(addrs), n, peers)
		}
	})
}
