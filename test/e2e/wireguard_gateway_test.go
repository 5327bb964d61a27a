package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/testpeer"
)

// TestWireGuardGateway runs userspace WireGuard (wireguard-go, programmed
// with wg) in two network namespaces: a gateway whose interface is set up
// from /api/v1/gateway/wireguard-peers, as its agent would, and a client
// using the wg-quick file a user generated and downloaded (through
// `wg-quick strip`). The client pings a network behind the gateway across
// the tunnel; after the config is revoked and the gateway re-applies its
// peer list, the client's packets no longer get through.
func TestWireGuardGateway(t *testing.T) {
	l := newLab(t)
	wg := testpeer.Command(t, "wg", "wireguard-tools")
	wgQuick := testpeer.Command(t, "wg-quick", "wireguard-tools")
	wgGo := testpeer.Command(t, "wireguard-go", "wireguard-go")
	ping := testpeer.Command(t, "ping", "iputils-ping")
	gwNS, cliNS := l.host("wggw", 1), l.host("wgcli", 2)
	l.dummy(gwNS, "lan0", "192.168.78.1/24") // the network behind the gateway

	s := newGatewayServer(t, "wg", map[string]any{
		"name": "lab", "hostname": labSubnet + "1", "port": 51820, "protocol": "udp", "vpn_type": "wireguard",
		"vpn_subnet": "10.77.0.0/24"}, "192.168.78.0/24")

	// The gateway makes its key pair and reports the public half.
	gwKey, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	s.agent("POST", "/api/v1/gateway/heartbeat", map[string]any{"public_key": gwKey.PublicKey().String()})

	// A userspace WireGuard interface in a namespace, up once wg sees it.
	// Its control socket (/var/run/wireguard/<dev>.sock) is not per
	// namespace, so each interface has a name unique to this run.
	gwDev, cliDev := l.id+"g", l.id+"c"
	iface := func(name, ns, dev string) {
		t.Helper()
		l.start(name, ns, "/usr/bin/env", "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1", wgGo, "-f", dev)
		eventually(t, 10*time.Second, name+" creates "+dev, func() error {
			if out, err := l.exec(ns, wg, "show", dev); err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		})
	}
	run := func(ns, prog string, args ...string) string {
		t.Helper()
		out, err := l.exec(ns, prog, args...)
		if err != nil {
			t.Fatalf("%s %s: %v: %s", prog, strings.Join(args, " "), err, out)
		}
		return out
	}

	// The gateway's interface from the peers endpoint: its address, port,
	// and the peer list applied as the agent does (replace: set every
	// listed peer, remove the others).
	iface("wireguard-gateway", gwNS, gwDev)
	keyFile := writeFile(t, l.dir, "gateway.key", []byte(gwKey.String()+"\n"))
	first := s.agent("POST", "/api/v1/gateway/wireguard-peers", nil)
	run(gwNS, wg, "set", gwDev, "private-key", keyFile, "listen-port", fmt.Sprint(first["listen_port"]))
	l.must("-n", gwNS, "addr", "add", first["address"].(string), "dev", gwDev)
	l.must("-n", gwNS, "link", "set", gwDev, "up")
	applyPeers := func() int {
		t.Helper()
		set := s.agent("POST", "/api/v1/gateway/wireguard-peers", nil)
		listed := map[string]bool{}
		for _, p := range set["peers"].([]any) {
			p := p.(map[string]any)
			key := p["public_key"].(string)
			listed[key] = true
			var ips []string
			for _, ip := range p["allowed_ips"].([]any) {
				ips = append(ips, ip.(string))
			}
			run(gwNS, wg, "set", gwDev, "peer", key, "allowed-ips", strings.Join(ips, ","))
		}
		for _, key := range strings.Fields(run(gwNS, wg, "show", gwDev, "peers")) {
			if !listed[key] {
				run(gwNS, wg, "set", gwDev, "peer", key, "remove")
			}
		}
		return len(listed)
	}

	// Alice generates and downloads her wg-quick file; the gateway learns
	// her peer.
	cfgID, file := s.generate("wireguard")
	if n := applyPeers(); n != 1 {
		t.Fatalf("the gateway has %d peers, want alice's", n)
	}

	// The client: wg-quick's own parser strips the file to what wg setconf
	// takes; Address and the routes to AllowedIPs are wg-quick's job, done
	// here with ip as wg-quick would.
	clientFile := writeFile(t, l.dir, "wg0.conf", file)
	strippedFile := writeFile(t, l.dir, "wg0.stripped", []byte(run(cliNS, wgQuick, "strip", clientFile)))
	iface("wireguard-client", cliNS, cliDev)
	run(cliNS, wg, "setconf", cliDev, strippedFile)
	var address string
	var routes []string
	for _, line := range strings.Split(string(file), "\n") {
		if v, ok := strings.CutPrefix(line, "Address = "); ok {
			address = v
		}
		if v, ok := strings.CutPrefix(line, "AllowedIPs = "); ok {
			routes = strings.Split(v, ", ")
		}
	}
	if fmt.Sprint(routes) != "[192.168.78.0/24]" {
		t.Fatalf("AllowedIPs %v, want alice's network:\n%s", routes, file)
	}
	l.must("-n", cliNS, "addr", "add", address, "dev", cliDev)
	l.must("-n", cliNS, "link", "set", cliDev, "up")
	for _, r := range routes {
		l.must("-n", cliNS, "route", "add", r, "dev", cliDev)
	}

	eventually(t, 20*time.Second, "ping across the tunnel", func() error {
		if out, err := l.exec(cliNS, ping, "-c", "1", "-W", "2", "192.168.78.1"); err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})

	// Revocation: the gateway re-applies its peers and drops alice.
	s.call(s.admin, "POST", "/api/v1/admin/configs/"+cfgID+"/revoke", nil, http.StatusOK)
	if n := applyPeers(); n != 0 {
		t.Fatalf("the gateway has %d peers after the revocation, want none", n)
	}
	if out, err := l.exec(cliNS, ping, "-c", "2", "-W", "2", "192.168.78.1"); err == nil {
		t.Fatalf("ping across the tunnel still works after revocation: %s", out)
	}
}
