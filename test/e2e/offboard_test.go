package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/testpeer"
)

// TestOffboardEverywhere gives one person a piece of every facet, each
// live on the wire, then offboards them with one call and watches each
// piece end where it is enforced:
//   - a mesh node run by a real `netkeep agent` in its own namespace, with a
//     peer (another agent) that pings it through WireGuard: afterwards the
//     peer's `wg show` lacks its key and the ping fails;
//   - an OpenVPN session (real server and client in namespaces) whose
//     gateway agent speaks GateKey's /ws/agent protocol and runs the
//     command it is sent, as GateKey's agent does: afterwards the server's
//     management status lacks the client and the tunnel carries nothing;
//   - a paired device on the event WebSocket: told device_revoked, closed;
//   - an API key and a web session: 401;
//   - a WiFi station's RADIUS accounting session (reported by radclient),
//     its NAS a real FreeRADIUS listening for Disconnect-Requests: it
//     receives one and its ACK is recorded.
//
// It logs the time from the call to each enforcement and to the last one;
// bench/offboard/run.sh runs it and reports that figure (a measurement,
// never a timed assertion: each wait here is a generous deadline).
func TestOffboardEverywhere(t *testing.T) {
	l := newLab(t)
	ping := testpeer.Command(t, "ping", "iputils-ping")
	wg := testpeer.Command(t, "wg", "wireguard-tools")
	openvpn := testpeer.Command(t, "openvpn", "openvpn")
	radclient := testpeer.Command(t, "radclient", "freeradius-utils")
	testpeer.Command(t, "bash", "bash") // GateKey's cut command is a bash script
	const radiusSecret = "radius-secret"
	nas := testpeer.FreeRADIUSDAE(t, radiusSecret)
	bin := l.build()

	// The server runs in-process (its internals pair the device) and
	// serves the lab's hosts on the bridge as well as the test on loopback.
	srvNS := l.host("obsrv", 1)
	gwNS, cliNS := l.host("obgw", 2), l.host("obcli", 3)
	public := "http://" + labSubnet + "1:8080"
	e := servertest.StartWith(t, config.SQLite, func(c *config.Config) { c.PublicURL = public })
	l.serve(srvNS, labSubnet+"1:8080", e.Server.Handler())
	acct := serveAccounting(t, e)

	// alice is a GROUP_ADMIN (so she can enroll mesh nodes with her own
	// access key); boss, of the same group, offboards her.
	const password = "password1"
	alice := e.CreateUser(t, "alice", password, identity.GroupAdmin, "acme")
	e.CreateUser(t, "boss", password, identity.GroupAdmin, "acme")
	aliceTok, _ := e.Login(t, "alice", password)
	bossTok, _ := e.Login(t, "boss", password)
	web := e.WebSession(t, "alice", password)
	s := &gatewayServer{t: t, e: e, admin: bossTok, user: aliceTok}

	// API key.
	apiKey := s.call(aliceTok, "POST", "/api/v1/apikeys", map[string]any{"name": "laptop", "scopes": []string{"users:read"}},
		http.StatusCreated).JSON["key"].(string)

	// Mesh: alice's node and boss's peer, each a real agent.
	s.call(aliceTok, "POST", "/api/networks", map[string]any{"netid": "obnet", "addressrange": "10.124.0.0/24"}, http.StatusOK)
	accessString := func(token string) string {
		return s.call(token, "POST", "/api/networks/obnet/keys", map[string]any{"uses": 1}, http.StatusOK).JSON["accessstring"].(string)
	}
	type meshHost struct {
		name, ns, iface, key, address string
		agent                         *proc
	}
	join := func(name string, n int, token string) *meshHost {
		h := &meshHost{name: name, ns: l.host(name, n), iface: l.id + name}
		h.agent = l.start("agent-"+name, h.ns, bin, "agent", "join", accessString(token), "--state-dir", l.dir+"/agent-"+name,
			"--interface", h.iface, "--name", name, "--wireguard", "userspace")
		return h
	}
	wgPeers := func(h *meshHost) ([]string, error) {
		out, err := l.exec(h.ns, wg, "show", h.iface, "peers")
		if err != nil {
			return nil, fmt.Errorf("wg show: %v: %s", err, out)
		}
		return strings.Fields(out), nil
	}
	laptop, peer := join("oa", 11, aliceTok), join("ob", 12, bossTok)
	eventually(t, 30*time.Second, "both nodes registered", func() error {
		var nodes []struct{ Name, Address string }
		r := s.call(bossTok, "GET", "/api/nodes/obnet", nil, http.StatusOK)
		if err := json.Unmarshal(r.Raw, &nodes); err != nil {
			return err
		}
		for _, n := range nodes {
			for _, h := range []*meshHost{laptop, peer} {
				if n.Name == h.name {
					h.address = n.Address
				}
			}
		}
		if laptop.address == "" || peer.address == "" {
			return fmt.Errorf("nodes %+v", nodes)
		}
		return nil
	})
	eventually(t, 30*time.Second, "the peer pings alice's laptop through the mesh", func() error {
		out, err := l.exec(peer.ns, ping, "-c", "1", "-W", "1", laptop.address)
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	out, err := l.exec(laptop.ns, wg, "show", laptop.iface, "public-key")
	if err != nil {
		t.Fatalf("wg show: %v: %s", err, out)
	}
	laptop.key = strings.TrimSpace(out)

	// VPN: a gateway with a network behind it, alice allowed; the OpenVPN
	// server opens its management interface where GateKey's cut command
	// expects it.
	gw := s.call(bossTok, "POST", "/api/v1/admin/gateways", map[string]any{"name": "lab", "hostname": labSubnet + "2",
		"port": 1194, "protocol": "udp", "vpn_type": "openvpn"}, http.StatusCreated).JSON["data"].(map[string]any)
	s.gwID, s.token = gw["id"].(string), gw["token"].(string)
	netID := s.call(bossTok, "POST", "/api/v1/admin/networks", map[string]any{"name": "lab-net", "cidr": "192.168.79.0/24",
		"gateway_ids": []string{s.gwID}}, http.StatusCreated).JSON["data"].(map[string]any)["id"].(string)
	s.call(bossTok, "POST", "/api/v1/admin/access-rules", map[string]any{"name": "alice", "network_id": netID,
		"user_ids": []int64{alice.ID}}, http.StatusCreated)
	_, crlFile, gwTunnel := s.startOpenVPN(l, openvpn, gwNS, []string{"192.168.79.0/24"}, "\nmanagement 127.0.0.1 7505\n")
	cfgID, profile := s.generate("openvpn")
	client := l.start("openvpn-client", cliNS, openvpn, "--config", writeFile(t, l.dir, "alice.ovpn", profile), "--dev", "tun0", "--disable-dco")
	waitLog(t, client, "Initialization Sequence Completed", 30*time.Second)
	eventually(t, 20*time.Second, "ping across the VPN", func() error {
		if out, err := l.exec(cliNS, ping, "-c", "1", "-W", "2", gwTunnel.String()); err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	cfg, err := e.DB.Read().VPNConfig(context.Background(), cfgID)
	if err != nil {
		t.Fatal(err)
	}
	// management asks the gateway's OpenVPN server for its status, reading
	// the answer to its END line before quitting (a quit sent with the
	// command can close the socket before the answer is written).
	management := func() string {
		out, _ := l.exec(gwNS, "timeout", "5", "bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/7505 && printf 'status\n' >&3 &&
			while read -r line <&3; do echo "$line"; [ "${line%$'\r'}" = END ] && break; done; printf 'quit\n' >&3`)
		return out
	}
	if st := management(); !strings.Contains(st, cfg.CommonName+",") {
		t.Fatalf("the gateway's status lacks %s:\n%s", cfg.CommonName, st)
	}
	// The gateway agent reports the session (GateKey's client-connect
	// hook) and holds its remote-session channel open.
	s.call("", "POST", "/api/v1/gateway/connect", map[string]any{"serial": string(cfg.Serial), "common_name": cfg.CommonName,
		"client_ip": labSubnet + "3", "vpn_address": "10.8.0.6"}, http.StatusCreated, "X-Gateway-Token", s.token)
	commands := gatekeyAgent(t, e, s.token, func(cmd string) (string, error) { return l.exec(gwNS, "sh", "-c", cmd) })

	// A paired device on the event WebSocket.
	socket := followDevice(e.DeviceSocket(t, e.PairDevice(t, aliceTok, "alice-phone")))

	// WiFi: a PSK, a station bound to it, the NAS (FreeRADIUS answering
	// Disconnect-Requests) and the station's accounting session.
	const mac = "aa:bb:cc:00:00:01"
	s.call(aliceTok, "POST", "/api/v1/psks", map[string]any{"psk_id": "alice-wifi"}, http.StatusCreated)
	s.call(aliceTok, "POST", "/api/v1/endpoints", map[string]any{"mac_address": mac, "psk_id": "alice-wifi"}, http.StatusCreated)
	s.call(bossTok, "POST", "/api/v1/radius/clients", map[string]any{"name": "lobby", "address": "127.0.0.1",
		"secret": radiusSecret, "dae_port": nas.Addr.Port()}, http.StatusCreated)
	start := `Acct-Status-Type = Start, Acct-Session-Id = "sess-alice", User-Name = "alice", ` +
		`Calling-Station-Id = "AA-BB-CC-00-00-01", NAS-IP-Address = 127.0.0.1, Framed-IP-Address = 10.0.0.1` + "\n"
	eventually(t, 15*time.Second, "the accounting Start answered", func() error {
		cmd := exec.Command(radclient, "-t", "1", "-r", "1", acct, "acct", radiusSecret)
		cmd.Stdin = strings.NewReader(start)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})

	eventually(t, 10*time.Second, "the accounting session listed", func() error {
		if r := s.call(bossTok, "GET", "/api/v1/radius/sessions", nil, http.StatusOK); r.JSON["total"] != float64(1) {
			return fmt.Errorf("%s", r.Raw)
		}
		return nil
	})

	// Everything is live and listed.
	path := fmt.Sprintf("/api/v1/users/%d", alice.ID)
	inv := s.call(bossTok, "GET", path+"/access", nil, http.StatusOK)
	for _, f := range []string{"session", "api_key", "device", "psk", "endpoint", "radius_session", "mesh_node", "certificate", "vpn_config", "vpn_session"} {
		if inv.ItemStates()[f]["active"] == 0 {
			t.Fatalf("the inventory lacks an active %s: %s", f, inv.Raw)
		}
	}

	// The API key and the web session work until the call.
	keyHeader, webHeader := []string{"X-API-Key", apiKey}, servertest.Cookie(web)
	for _, h := range [][]string{keyHeader, webHeader} {
		if r := e.Do(t, "GET", "/api/auth/me", nil, h...); r.Status != http.StatusOK {
			t.Fatalf("%s before offboarding: %d %s", h[0], r.Status, r.Raw)
		}
	}

	// One call. Each watcher polls its enforcement point and records when
	// it first saw the item ended there.
	w := &watch{t: t}
	began := time.Now()
	w.run("mesh: peer dropped alice's key", func() error {
		peers, err := wgPeers(peer)
		if err != nil {
			return err
		}
		if slices.Contains(peers, laptop.key) {
			return fmt.Errorf("still a peer")
		}
		return nil
	})
	var cut agentCommand
	w.run("vpn: the gateway's management dropped the client", func() error {
		select {
		case cut = <-commands:
			return nil
		default:
			return fmt.Errorf("no command yet")
		}
	})
	w.run("device: socket closed", func() error {
		select {
		case <-socket.closed:
			return nil
		default:
			return fmt.Errorf("open")
		}
	})
	refused := func(headers ...string) func() error {
		return func() error {
			if r := e.Do(t, "GET", "/api/auth/me", nil, headers...); r.Status != http.StatusUnauthorized {
				return fmt.Errorf("%d", r.Status)
			}
			return nil
		}
	}
	w.run("api key: 401", refused(keyHeader...))
	w.run("web session: 401", refused(webHeader...))
	w.run("radius: Disconnect-Request received by the NAS", func() error {
		if !strings.Contains(nas.Log(), "Received Disconnect-Request") {
			return fmt.Errorf("nothing yet")
		}
		return nil
	})
	r := s.call(bossTok, "POST", path+"/offboard", map[string]any{}, http.StatusOK)
	answered := time.Since(began)
	w.wait()

	if r.JSON["failures"] != float64(0) {
		t.Errorf("failures: %s", r.Raw)
	}
	got := r.ItemStates()
	for f, st := range map[string]string{"user": "disabled", "api_key": "revoked", "device": "revoked", "mesh_node": "removed",
		"certificate": "revoked", "vpn_config": "revoked", "vpn_session": "cut_sent", "radius_session": "ack"} {
		if got[f][st] != 1 {
			t.Errorf("%s = %v, want one %s", f, got[f], st)
		}
	}

	// What each enforcement point shows now.
	if out, err := l.exec(peer.ns, ping, "-c", "2", "-W", "1", laptop.address); err == nil {
		t.Errorf("the peer still reaches alice's laptop through the mesh:\n%s", out)
	}
	if err := laptop.agent.exited(t, 10*time.Second); err == nil {
		t.Error("alice's agent exited with status 0 after her node was removed")
	}
	if out, err := l.exec(laptop.ns, l.ip, "link", "show", laptop.iface); err == nil {
		t.Errorf("alice's WireGuard interface survived the removal of her node:\n%s", out)
	}
	if !strings.Contains(cut.output, "SUCCESS: common name '"+cfg.CommonName+"' found") || cut.err != nil {
		t.Errorf("the cut command's management answer: %q (%v)", cut.output, cut.err)
	}
	if !socket.revoked() {
		t.Error("the device's WebSocket closed without device_revoked")
	}
	log := nas.Received("Disconnect-Request", "alice")
	for _, attr := range []string{`Calling-Station-Id = "AA-BB-CC-00-00-01"`, `Acct-Session-Id = "sess-alice"`, "Message-Authenticator"} {
		if !strings.Contains(log, attr) {
			t.Errorf("the NAS did not receive %s:\n%s", attr, log)
		}
	}
	// The gateway refreshes its CRL (as its agent does): should the client
	// reconnect, it is refused, so the tunnel stays down.
	writeAtomic(t, crlFile, s.call("", "GET", "/api/v1/pki/crl.pem", nil, http.StatusOK).Raw)
	eventually(t, 30*time.Second, "the client gone from the gateway's status", func() error {
		if st := management(); !strings.Contains(st, "ROUTING TABLE") || strings.Contains(st, cfg.CommonName+",") {
			return fmt.Errorf("status:\n%s", st)
		}
		return nil
	})
	if out, err := l.exec(cliNS, ping, "-c", "2", "-W", "1", gwTunnel.String()); err == nil {
		t.Errorf("ping across the VPN still works after offboarding:\n%s", out)
	}
	if n := strings.Count(client.output(), "Initialization Sequence Completed"); n != 1 {
		t.Errorf("the client connected %d times, want once (before offboarding):\n%s", n, client.output())
	}
	// Offboarding again ends nothing more; the VPN session, which the
	// gateway never reported closed, is cut again, and the command says
	// that the gateway no longer has the client.
	again := s.call(bossTok, "POST", path+"/offboard", nil, http.StatusOK)
	if st := again.ItemStates(); len(again.JSON["items"].([]any)) != 2 || st["vpn_session"]["cut_sent"] != 1 {
		t.Errorf("second offboarding: %s", again.Raw)
	}
	select {
	case c := <-commands:
		var exit *exec.ExitError
		if !errors.As(c.err, &exit) || exit.ExitCode() != 1 || !strings.Contains(c.output, "ERROR: common name '"+cfg.CommonName+"' not found") {
			t.Errorf("the second cut: %q (%v), want exit status 1 and the management's ERROR", c.output, c.err)
		}
	case <-time.After(30 * time.Second):
		t.Error("no second cut command")
	}
	t.Logf("the OpenVPN client after the cut:\n%s", tail(client.output(), 8))

	t.Logf("offboarding: the call answered in %v (duration_ms %v); enforced on the wire:\n%s",
		answered.Round(time.Millisecond), r.JSON["duration_ms"], w.report(began))
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// watch runs one poller per enforcement point, concurrently, each
// recording when its condition first held.
type watch struct {
	t    *testing.T
	wg   sync.WaitGroup
	mu   sync.Mutex
	seen map[string]time.Time
	errs []string
}

// run polls cond every 20 ms until it holds (or 60 s pass: a failure).
func (w *watch) run(what string, cond func() error) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		deadline := time.Now().Add(60 * time.Second)
		for {
			err := cond()
			now := time.Now()
			w.mu.Lock()
			if err == nil {
				if w.seen == nil {
					w.seen = map[string]time.Time{}
				}
				w.seen[what] = now
			} else if now.After(deadline) {
				w.errs = append(w.errs, fmt.Sprintf("%s: not after 60 s: %v", what, err))
			}
			w.mu.Unlock()
			if err == nil || now.After(deadline) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
}

// wait waits for every poller and fails the test for those that timed out.
func (w *watch) wait() {
	w.t.Helper()
	w.wg.Wait()
	for _, e := range w.errs {
		w.t.Error(e)
	}
}

// report lists each enforcement's delay from began, and the last one, in
// the form bench/offboard/run.sh reads.
func (w *watch) report(began time.Time) string {
	type row struct {
		what string
		d    time.Duration
	}
	var rows []row
	for what, at := range w.seen {
		rows = append(rows, row{what, at.Sub(began)})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].d < rows[j].d })
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-50s %6d ms\n", r.what, r.d.Milliseconds())
	}
	if len(rows) > 0 {
		fmt.Fprintf(&b, "OFFBOARD-LAST-ENFORCEMENT-MS %d", rows[len(rows)-1].d.Milliseconds())
	}
	return b.String()
}

// serveAccounting runs the server's RADIUS accounting listener on a
// loopback port, as `netkeep serve --radius-acct-listen` does, and returns
// its address.
func serveAccounting(t *testing.T, e *servertest.Env) string {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Server.Radius.Serve(ctx, nil, []*net.UDPConn{c}) }()
	t.Cleanup(func() { cancel(); <-done })
	return c.LocalAddr().String()
}

// deviceSocket follows a device's event socket: closed is closed with the
// socket, and types lists the messages it received.
type deviceSocket struct {
	closed chan struct{}
	mu     sync.Mutex
	types  []string
}

func followDevice(types <-chan string) *deviceSocket {
	s := &deviceSocket{closed: make(chan struct{})}
	go func() {
		defer close(s.closed)
		for typ := range types {
			s.mu.Lock()
			s.types = append(s.types, typ)
			s.mu.Unlock()
		}
	}()
	return s
}

// revoked reports whether device_revoked was among the messages.
func (s *deviceSocket) revoked() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.types, "device_revoked")
}
