package own_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/gateway"
	"netkeep/internal/identity"
	"netkeep/internal/radius/nas"
	"netkeep/internal/server/servertest"
	"netkeep/internal/testpeer"
)

var master = &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}

// person is a GROUP_ADMIN of group A holding something in every facet,
// made by that person, so that all of it is theirs; boss offboards them and
// stranger is B's administrator.
type person struct {
	e                    *servertest.Env
	id                   int64
	access, web          string // the person's access token and web session
	apiKey               string // the person's API key secret
	deviceToken          string
	deviceID             string
	pskID                int64
	macs                 []string
	netid, nodeMAC       string
	nodePassword         string
	gatewayID, gwToken   string
	configID, serial     string
	vpnSessionID         string
	radiusClientID       int64
	boss, stranger, user []string
}

func newPerson(t *testing.T, e *servertest.Env, macs ...string) *person {
	t.Helper()
	ctx := context.Background()
	p := &person{e: e, macs: macs}
	u := e.CreateUser(t, "alice", password, identity.GroupAdmin, "A")
	p.id = u.ID
	e.CreateUser(t, "boss", password, identity.GroupAdmin, "A")
	e.CreateUser(t, "carol", password, identity.RoleUser, "A")
	e.CreateUser(t, "stranger", password, identity.GroupAdmin, "B")
	tok := func(name string) []string { a, _ := e.Login(t, name, password); return servertest.Bearer(a) }
	p.boss, p.user, p.stranger = tok("boss"), tok("carol"), tok("stranger")
	p.access, _ = e.Login(t, "alice", password)
	p.web = e.WebSession(t, "alice", password)
	alice := servertest.Bearer(p.access)
	must := func(r *servertest.Response, status int, what string) *servertest.Response {
		t.Helper()
		if r.Status != status {
			t.Fatalf("%s: %d %s", what, r.Status, r.Raw)
		}
		return r
	}

	r := must(e.Do(t, "POST", "/api/v1/apikeys", map[string]any{"name": "laptop", "scopes": []string{"users:read"}}, alice...), 201, "api key")
	p.apiKey = r.JSON["key"].(string)

	p.deviceID = "alice-phone"
	p.deviceToken = e.PairDevice(t, p.access, p.deviceID)

	r = must(e.Do(t, "POST", "/api/v1/psks", map[string]any{"psk_id": "alice-wifi"}, alice...), 201, "psk")
	p.pskID = int64(r.JSON["id"].(float64))
	for _, mac := range macs {
		must(e.Do(t, "POST", "/api/v1/endpoints", map[string]any{"mac_address": mac, "psk_id": "alice-wifi"}, alice...), 201, "endpoint")
	}

	// A mesh node enrolled with the person's access key: it is theirs.
	p.netid, p.nodeMAC, p.nodePassword = "alicenet", "02:00:00:00:00:01", "node-password-1"
	must(e.Do(t, "POST", "/api/networks", map[string]any{"netid": p.netid}, alice...), 200, "network")
	key := must(e.Do(t, "POST", "/api/networks/"+p.netid+"/keys", map[string]any{"uses": 2}, alice...), 200, "key").JSON["value"].(string)
	must(e.Do(t, "POST", "/api/nodes/"+p.netid, map[string]any{"accesskey": key, "macaddress": p.nodeMAC,
		"publickey": "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXowMTIzNDU=", "password": p.nodePassword}), 200, "join")

	// A VPN configuration of the person, and a live session with it.
	gid := u.GroupID
	name, host := "office", "vpn.example.com"
	gw, err := e.Server.Gateways.CreateGateway(ctx, master, servertest.Src, gateway.GatewayInput{GroupID: &gid, Name: &name, Hostname: &host})
	if err != nil {
		t.Fatal(err)
	}
	p.gatewayID, p.gwToken = gw.Gateway.ID, gw.Token
	netName, cidr, gws := "lan", "10.40.0.0/16", []string{p.gatewayID}
	vnet, err := e.Server.Gateways.CreateNetwork(ctx, master, servertest.Src, gateway.NetworkInput{GroupID: &gid, Name: &netName, CIDR: &cidr, GatewayIDs: &gws})
	if err != nil {
		t.Fatal(err)
	}
	ruleName, users := "alice", []int64{u.ID}
	if _, err := e.Server.Gateways.CreateRule(ctx, master, servertest.Src, gateway.RuleInput{Name: &ruleName, NetworkID: &vnet.ID, UserIDs: &users}); err != nil {
		t.Fatal(err)
	}
	r = must(e.Do(t, "POST", "/api/v1/configs/generate", map[string]any{"gateway_id": p.gatewayID, "protocol": "openvpn"}, alice...), 200, "config")
	p.configID = r.JSON["config_id"].(string)
	cfg, err := e.DB.Read().VPNConfig(ctx, p.configID)
	if err != nil {
		t.Fatal(err)
	}
	p.serial = string(cfg.Serial)
	r = must(e.Do(t, "POST", "/api/v1/gateway/connect", map[string]any{"serial": p.serial, "common_name": cfg.CommonName,
		"client_ip": "198.51.100.7", "vpn_address": "10.8.0.6"}, "X-Gateway-Token", p.gwToken), 201, "vpn connect")
	p.vpnSessionID = r.JSON["id"].(string)
	return p
}

// radiusClient adds a RADIUS client of A whose dynamic authorization server
// is at port (mode "off": none) and one live accounting session per MAC,
// user names from users.
func (p *person) radiusClient(t *testing.T, mode string, port int, users ...string) {
	t.Helper()
	ctx := context.Background()
	gid, err := p.e.Server.Identity.GetUser(ctx, master, p.id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.e.Server.RadiusClients.Create(ctx, master, servertest.Src, nas.NewClient{GroupID: gid.GroupID, Name: "lobby",
		Address: "127.0.0.1", Secret: "radius-secret", DAE: nas.NewDAE{Mode: &mode, Port: &port}})
	if err != nil {
		t.Fatal(err)
	}
	p.radiusClientID = c.ID
	now := time.Now().UTC()
	var b nas.SessionBatch
	for i, mac := range p.macs {
		b.Upserts = append(b.Upserts, nas.Session{GroupID: gid.GroupID, ClientID: c.ID, SessionID: "sess-" + users[i],
			MAC: mac, Username: users[i], NASAddress: "127.0.0.1", FramedIP: fmt.Sprintf("10.0.0.%d", i+1), StartedAt: now, UpdatedAt: now})
	}
	if err := p.e.Server.RadiusClients.ApplySessions(ctx, b); err != nil {
		t.Fatal(err)
	}
}

// live is how many rows of each facet still grant the person access.
func (p *person) live(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for facet, q := range map[string]string{
		"user":        fmt.Sprintf("SELECT count(*) FROM users WHERE id = %d AND is_active", p.id),
		"session":     fmt.Sprintf("SELECT count(*) FROM sessions WHERE user_id = %d AND revoked_at IS NULL", p.id),
		"api_key":     fmt.Sprintf("SELECT count(*) FROM api_keys WHERE created_by = %d AND revoked_at IS NULL", p.id),
		"device":      fmt.Sprintf("SELECT count(*) FROM devices WHERE user_id = %d AND revoked_at IS NULL", p.id),
		"psk":         fmt.Sprintf("SELECT count(*) FROM psks WHERE created_by = %d AND enabled", p.id),
		"endpoint":    fmt.Sprintf("SELECT count(*) FROM endpoints WHERE psk_id = %d", p.pskID),
		"mesh_node":   fmt.Sprintf("SELECT count(*) FROM mesh_nodes WHERE owner_id = %d", p.id),
		"certificate": fmt.Sprintf("SELECT count(*) FROM pki_certificates WHERE user_id = %d AND revoked_at IS NULL", p.id),
		"vpn_config":  fmt.Sprintf("SELECT count(*) FROM vpn_configs WHERE user_id = %d AND revoked_at IS NULL", p.id),
		"audit":       "SELECT count(*) FROM audit_log",
	} {
		var n int
		if err := p.e.DB.SQL().QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", facet, err)
		}
		out[facet] = n
	}
	return out
}

func TestOffboardUser(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		p := newPerson(t, e, "aa:bb:cc:00:00:01")
		p.radiusClient(t, "off", 3799, "alice")
		path := fmt.Sprintf("/api/v1/users/%d", p.id)
		everything := map[string]int{"user": 1, "session": 2, "api_key": 1, "device": 1, "psk": 1, "endpoint": 1,
			"mesh_node": 1, "certificate": 1, "vpn_config": 1, "vpn_session": 1, "radius_session": 1}

		// The inventory and the dry run list everything and change nothing.
		before := p.live(t)
		for _, c := range []struct {
			name, method, path string
			body               any
		}{
			{"access", "GET", path + "/access", nil},
			{"dry run", "POST", path + "/offboard", map[string]any{"dry_run": true}},
		} {
			r := e.Do(t, c.method, c.path, c.body, p.boss...)
			if r.Status != http.StatusOK || r.JSON["enforced"] != false {
				t.Fatalf("%s: %d %s", c.name, r.Status, r.Raw)
			}
			got := r.ItemStates()
			for f, n := range everything {
				if got[f]["active"] != n {
					t.Errorf("%s: %s = %v, want %d active (%s)", c.name, f, got[f], n, r.Raw)
				}
			}
			if after := p.live(t); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("%s changed rows: %v -> %v", c.name, before, after)
			}
		}

		// Another group's administrator cannot see or offboard the person,
		// and a USER of the group may do neither.
		for _, c := range []struct {
			name   string
			who    []string
			status int
			code   string
		}{
			{"404/another group", p.stranger, 404, "NOT_FOUND"},
			{"403/USER", p.user, 403, "FORBIDDEN"},
		} {
			for _, req := range [][2]string{{"GET", path + "/access"}, {"POST", path + "/offboard"}} {
				r := e.Do(t, req[0], req[1], map[string]any{}, c.who...)
				wantError(t, r, c.status, c.code)
			}
		}
		if after := p.live(t); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("refused calls changed rows: %v -> %v", before, after)
		}

		// Offboarding ends everything, each item with its state.
		socket := e.DeviceSocket(t, p.deviceToken)
		sub := e.Bus.Subscribe(gateway.TopicGateway)
		defer sub.Close()
		r := e.Do(t, "POST", path+"/offboard", map[string]any{}, p.boss...)
		if r.Status != http.StatusOK || r.JSON["enforced"] != true || r.JSON["failures"] != float64(0) {
			t.Fatalf("offboard: %d %s", r.Status, r.Raw)
		}
		t.Logf("offboarding (RADIUS dae_mode off): %v ms from the call to the last enforcement", r.JSON["duration_ms"])
		got := r.ItemStates()
		for f, st := range map[string]string{"user": "disabled", "session": "ended", "api_key": "revoked", "device": "revoked",
			"psk": "disabled", "endpoint": "unbound", "mesh_node": "removed", "certificate": "revoked", "vpn_config": "revoked",
			"vpn_session": "cut_sent", "radius_session": "not_sent"} {
			if got[f][st] != everything[f] {
				t.Errorf("%s = %v, want %d %s", f, got[f], everything[f], st)
			}
		}
		after := p.live(t)
		for f, n := range after {
			if f != "audit" && n != 0 {
				t.Errorf("%s: %d rows still live", f, n)
			}
		}

		// The gateway's remote-session channel got the cut.
		deadline := time.After(5 * time.Second)
	cut:
		for {
			select {
			case ev := <-sub.C():
				if ev.Action == gateway.ActionSessionCut && ev.ID == p.gatewayID {
					break cut
				}
			case <-deadline:
				t.Fatal("no session.cut event")
			}
		}

		// The device's WebSocket is told, then closed.
		revoked := false
		for closed := false; !closed; {
			select {
			case typ, ok := <-socket:
				revoked, closed = revoked || typ == "device_revoked", !ok
			case <-time.After(5 * time.Second):
				t.Fatal("the device's WebSocket is still open")
			}
		}
		if !revoked {
			t.Error("the device's WebSocket closed without device_revoked")
		}

		// Every credential is refused.
		for _, c := range []struct {
			name    string
			path    string
			headers []string
			status  int
		}{
			{"access token", "/api/auth/me", servertest.Bearer(p.access), 401},
			{"web session", "/api/auth/me", servertest.Cookie(p.web), 401},
			{"API key", "/api/v1/apikeys", []string{"X-API-Key", p.apiKey}, 401},
			{"device token", "/api/v1/session-cookies", servertest.Bearer(p.deviceToken), 401},
			{"config download", "/api/v1/configs/download/" + p.configID, servertest.Bearer(p.access), 401},
		} {
			if r := e.Do(t, "GET", c.path, nil, c.headers...); r.Status != c.status {
				t.Errorf("%s: %d %s", c.name, r.Status, r.Raw)
			}
		}
		if r := e.Do(t, "POST", "/api/nodes/adm/"+p.netid+"/authenticate", map[string]any{"macaddress": p.nodeMAC, "password": p.nodePassword}); r.Status == 200 {
			t.Errorf("node credential still works: %s", r.Raw)
		}
		if r := e.Do(t, "POST", "/api/v1/gateway/verify", map[string]any{"serial": p.serial}, "X-Gateway-Token", p.gwToken); r.Status != 403 {
			t.Errorf("gateway verify of the revoked certificate: %d %s", r.Status, r.Raw)
		}

		// Once more: nothing left, nothing written. The VPN session stays
		// live until its gateway reports it closed, so its cut is sent again.
		r = e.Do(t, "POST", path+"/offboard", nil, p.boss...)
		if again := r.ItemStates(); r.Status != http.StatusOK || len(r.JSON["items"].([]any)) != 2 ||
			again["user"]["disabled"] != 1 || again["vpn_session"]["cut_sent"] != 1 {
			t.Fatalf("second offboard: %d %s", r.Status, r.Raw)
		}
		if again := p.live(t); fmt.Sprint(again) != fmt.Sprint(after) {
			t.Fatalf("second offboard changed rows: %v -> %v", after, again)
		}
		var summaries int
		if err := e.DB.SQL().QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'user.offboard'`).Scan(&summaries); err != nil || summaries != 1 {
			t.Fatalf("summary entries: %d %v", summaries, err)
		}
	})
}

func TestOffboardRefusals(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	boss := e.CreateUser(t, "boss", password, identity.GroupAdmin, "A")
	tok, _ := e.Login(t, "boss", password)
	h := servertest.Bearer(tok)
	for _, c := range []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"404/unknown user", "POST", "/api/v1/users/999999/offboard", nil, 404, "NOT_FOUND"},
		{"404/malformed id", "GET", "/api/v1/users/x/access", nil, 404, "NOT_FOUND"},
		{"400/yourself", "POST", fmt.Sprintf("/api/v1/users/%d/offboard", boss.ID), nil, 400, "BAD_REQUEST"},
		{"400/bad body", "POST", fmt.Sprintf("/api/v1/users/%d/offboard", boss.ID), `{"dry_run":`, 400, "BAD_REQUEST"},
		{"400/bad field", "POST", fmt.Sprintf("/api/v1/users/%d/offboard", boss.ID), map[string]any{"dry_run": "yes"}, 400, "BAD_REQUEST"},
		{"404/unknown device", "POST", "/api/v1/offboard/devices/nope", nil, 404, "DEVICE_NOT_FOUND"},
		{"404/unknown node", "POST", "/api/v1/offboard/nodes/nonet/02:00:00:00:00:09", nil, 404, "NOT_FOUND"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, e.Do(t, c.method, c.path, c.body, h...), c.status, c.code)
		})
	}
	var n int
	if err := e.DB.SQL().QueryRow(`SELECT count(*) FROM users WHERE id = $1 AND is_active`, boss.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("a refused offboarding changed the user: %d %v", n, err)
	}
}

// Offboarding one device or one node ends just that; another group's
// administrator finds neither, dry run or not, and a USER of the group is
// refused both.
func TestOffboardSingle(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		p := newPerson(t, e)
		for _, c := range []struct {
			name, facet, path, state, notFound string
		}{
			{"device", "device", "/api/v1/offboard/devices/" + p.deviceID, "revoked", "DEVICE_NOT_FOUND"},
			{"node", "mesh_node", "/api/v1/offboard/nodes/" + p.netid + "/" + p.nodeMAC, "removed", "NOT_FOUND"},
		} {
			t.Run(c.name, func(t *testing.T) {
				dry := map[string]any{"dry_run": true}
				wantError(t, e.Do(t, "POST", c.path, nil, p.stranger...), 404, c.notFound)
				wantError(t, e.Do(t, "POST", c.path, dry, p.stranger...), 404, c.notFound)
				// A USER of the group may not even list what would end.
				wantError(t, e.Do(t, "POST", c.path, dry, p.user...), 403, "FORBIDDEN")
				wantError(t, e.Do(t, "POST", c.path, nil, p.user...), 403, "FORBIDDEN")
				r := e.Do(t, "POST", c.path, dry, p.boss...)
				if r.Status != 200 || r.ItemStates()[c.facet]["active"] != 1 {
					t.Fatalf("dry run: %d %s", r.Status, r.Raw)
				}
				r = e.Do(t, "POST", c.path, nil, p.boss...)
				items := r.JSON["items"].([]any)
				if r.Status != 200 || len(items) != 1 || items[0].(map[string]any)["state"] != c.state {
					t.Fatalf("offboard: %d %s", r.Status, r.Raw)
				}
				wantError(t, e.Do(t, "POST", c.path, nil, p.boss...), 404, c.notFound)
			})
		}
		// The rest of the person's access is untouched.
		if n := p.live(t); n["user"] != 1 || n["api_key"] != 1 || n["device"] != 0 || n["mesh_node"] != 0 {
			t.Fatalf("live after single offboardings: %v", n)
		}
	})
}

// The RADIUS side against a real FreeRADIUS acting as the NAS's dynamic
// authorization server: each live session of the person's stations gets a
// Disconnect-Request with its attributes and a valid
// Message-Authenticator; the ACK is recorded, the NAK and the silence are
// reported as such.
func TestOffboardRadius(t *testing.T) {
	t.Parallel()
	const secret = "radius-secret"
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		peer := testpeer.FreeRADIUSDAE(t, secret)
		p := newPerson(t, e, "aa:bb:cc:00:00:01", "aa:bb:cc:00:00:02", "aa:bb:cc:00:00:03")
		users := []string{"alice", "nak-me", "drop-me"}
		p.radiusClient(t, "disconnect", int(peer.Addr.Port()), users...)
		r := e.Do(t, "POST", fmt.Sprintf("/api/v1/users/%d/offboard", p.id), nil, p.boss...)
		if r.Status != 200 {
			t.Fatalf("offboard: %d %s", r.Status, r.Raw)
		}
		got := map[string]map[string]any{}
		for _, x := range r.JSON["items"].([]any) {
			it := x.(map[string]any)
			if it["facet"] == "radius_session" {
				got[it["name"].(string)] = it
			}
		}
		for i, want := range []string{"ack", "nak", "timeout"} {
			it := got[p.macs[i]]
			if it == nil || it["state"] != want || it["id"] != fmt.Sprintf("%d/sess-%s", p.radiusClientID, users[i]) {
				t.Errorf("%s: %v, want %s", p.macs[i], it, want)
			}
		}
		t.Logf("offboarding with a NAS that ACKs, one that NAKs and one that stays silent: %v ms", r.JSON["duration_ms"])
		if r.JSON["failures"] != float64(2) {
			t.Errorf("failures = %v, want 2 (the NAK and the timeout)", r.JSON["failures"])
		}
		log := peer.Received("Disconnect-Request", "alice")
		for _, attr := range []string{`Calling-Station-Id = "AA-BB-CC-00-00-01"`, `Acct-Session-Id = "sess-alice"`, "Message-Authenticator"} {
			if !strings.Contains(log, attr) {
				t.Errorf("the NAS did not receive %s:\n%s", attr, log)
			}
		}
		var n int
		if err := e.DB.SQL().QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'radius_session.disconnect'`).Scan(&n); err != nil || n != 3 {
			t.Fatalf("recorded answers: %d %v", n, err)
		}
	})
}

// With delete_user the account is deleted once everything else ended.
func TestOffboardDeleteUser(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	p := newPerson(t, e, "aa:bb:cc:00:00:01")
	path := fmt.Sprintf("/api/v1/users/%d", p.id)
	r := e.Do(t, "POST", path+"/offboard", map[string]any{"delete_user": true}, p.boss...)
	if r.Status != http.StatusOK || r.JSON["failures"] != float64(0) || r.ItemStates()["user"]["deleted"] != 1 || r.ItemStates()["user"]["disabled"] != 0 {
		t.Fatalf("offboard: %d %s", r.Status, r.Raw)
	}
	if n := p.live(t); n["user"] != 0 || n["psk"] != 0 || n["mesh_node"] != 0 || n["certificate"] != 0 {
		t.Fatalf("live after deletion: %v", n)
	}
	wantError(t, e.Do(t, "GET", path+"/access", nil, p.boss...), 404, "NOT_FOUND")
}
