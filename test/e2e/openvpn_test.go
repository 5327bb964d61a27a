package e2e

import (
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"netkeep/internal/testpeer"
	"netkeep/internal/vpnconfig"
)

// TestOpenVPNGateway runs real OpenVPN in two network namespaces: a gateway
// configured from what /api/v1/gateway/provision returns (rendered by
// vpnconfig.OpenVPNServer, as a gateway agent would) and a client using the
// .ovpn a user generated and downloaded. They connect and ping across the
// tunnel; after the client's config is revoked and the gateway re-fetches
// the CRL into its crl-verify file, a new connection is refused.
func TestOpenVPNGateway(t *testing.T) {
	l := newLab(t)
	openvpn := testpeer.Command(t, "openvpn", "openvpn")
	ping := testpeer.Command(t, "ping", "iputils-ping")
	gwNS, cliNS := l.host("ovgw", 1), l.host("ovcli", 2)
	gwAddr := labSubnet + "1"

	// The administrator sets up a gateway, a network behind it and a rule
	// for alice.
	s := newGatewayServer(t, "ov", map[string]any{
		"name": "lab", "hostname": gwAddr, "port": 1194, "protocol": "udp", "vpn_type": "openvpn"}, "192.168.77.0/24")

	server, crlFile, gwTunnel := s.startOpenVPN(l, openvpn, gwNS, []string{"192.168.77.0/24"}, "")

	// Alice generates and downloads her profile.
	cfgID, profile := s.generate("openvpn")
	if !strings.Contains(string(profile), fmt.Sprintf("\nremote %s 1194\n", gwAddr)) {
		t.Fatalf("profile does not point at the gateway:\n%s", profile)
	}
	clientFile := writeFile(t, l.dir, "alice.ovpn", profile)

	client := l.start("openvpn-client", cliNS, openvpn, "--config", clientFile, "--dev", "tun0", "--disable-dco")
	waitLog(t, client, "Initialization Sequence Completed", 30*time.Second)
	eventually(t, 20*time.Second, "ping across the tunnel", func() error {
		if out, err := l.exec(cliNS, ping, "-c", "1", "-W", "2", gwTunnel.String()); err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	client.stop()

	// Revoke the config; the gateway refreshes its CRL from the public
	// endpoint (OpenVPN re-reads crl-verify on every new connection).
	s.call(s.admin, "POST", "/api/v1/admin/configs/"+cfgID+"/revoke", map[string]any{"reason": "keyCompromise"}, http.StatusOK)
	writeAtomic(t, crlFile, s.call("", "GET", "/api/v1/pki/crl.pem", nil, http.StatusOK).Raw)

	mark := len(server.output())
	again := l.start("openvpn-client-revoked", cliNS, openvpn, "--config", clientFile, "--dev", "tun0", "--disable-dco")
	eventually(t, 30*time.Second, "the gateway refuses the revoked certificate", func() error {
		if log := server.output()[mark:]; !strings.Contains(strings.ToLower(log), "revoked") {
			return fmt.Errorf("gateway log since the new connection:\n%s", log)
		}
		return nil
	})
	if strings.Contains(again.output(), "Initialization Sequence Completed") {
		t.Fatalf("the revoked client connected:\n%s", again.output())
	}
	if out, err := l.exec(cliNS, ping, "-c", "1", "-W", "2", gwTunnel.String()); err == nil {
		t.Fatalf("ping across the tunnel still works after revocation: %s", out)
	}
}

// startOpenVPN provisions the gateway with its token, as its agent does,
// and starts OpenVPN in ns from the answer (rendered by
// vpnconfig.OpenVPNServer), pushing routes to push, with extra appended to
// the configuration. It returns the process once initialised, the
// crl-verify file the gateway keeps current, and the server's tunnel
// address.
func (s *gatewayServer) startOpenVPN(l *lab, openvpn, ns string, push []string, extra string) (server *proc, crlFile string, tunnel netip.Addr) {
	t := s.t
	t.Helper()
	prov := s.agent("POST", "/api/v1/gateway/provision", map[string]any{})
	s.provisioned = prov
	str := func(k string) string {
		v, _ := prov[k].(string)
		if v == "" {
			t.Fatalf("provision answer lacks %s", k)
		}
		return v
	}
	crlFile = filepath.Join(l.dir, "gateway-crl.pem")
	writeAtomic(t, crlFile, []byte(str("crl_pem")))
	subnet := netip.MustParsePrefix(str("vpn_subnet"))
	conf, err := vpnconfig.OpenVPNServer{
		Comment: "netkeep gateway " + s.gwID, Port: int(prov["port"].(float64)), Proto: str("protocol"),
		Subnet: subnet, Device: "tun0", CAPEM: []byte(str("ca_cert")), CertPEM: []byte(str("server_cert")),
		KeyPEM: []byte(str("server_key")), TLSCrypt: []byte(str("tls_crypt_key")), CRLFile: crlFile, Push: push,
	}.Render()
	if err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, l.dir, "server.conf", append(conf, extra...))
	server = l.start("openvpn-gateway", ns, openvpn, "--config", file, "--disable-dco")
	waitLog(t, server, "Initialization Sequence Completed", 30*time.Second)
	return server, crlFile, subnet.Masked().Addr().Next() // the server takes the pool's first address
}

// waitLog waits until p's output contains want.
func waitLog(t *testing.T, p *proc, want string, within time.Duration) {
	t.Helper()
	eventually(t, within, p.name+" logs "+want, func() error {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited (%v):\n%s", p.name, p.err, p.output())
		default:
		}
		if !strings.Contains(p.output(), want) {
			return fmt.Errorf("not yet")
		}
		return nil
	})
}

// writeAtomic replaces path by rename, so OpenVPN never reads half a CRL.
func writeAtomic(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
