package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"netkeep/internal/testpeer"
)

// TestOpenVPNCARotation rotates the group's CA under real OpenVPN: the
// gateway and the client profiles carry every CA the group trusts (and the
// gateway one CRL per CA, which OpenVPN's crl-verify needs for every CA of
// a chain), so during the rotation a client of the new CA reaches a gateway
// whose server certificate is the old CA's, and a client of the old CA one
// whose server certificate is the new CA's. Once the old CA is revoked, its
// client is refused from the gateway's refreshed CRLs.
func TestOpenVPNCARotation(t *testing.T) {
	l := newLab(t)
	openvpn := testpeer.Command(t, "openvpn", "openvpn")
	ping := testpeer.Command(t, "ping", "iputils-ping")
	gwNS, cliNS := l.host("rotgw", 1), l.host("rotcli", 2)
	gwAddr := labSubnet + "1"
	s := newGatewayServer(t, "rot", map[string]any{
		"name": "lab", "hostname": gwAddr, "port": 1194, "protocol": "udp", "vpn_type": "openvpn"}, "192.168.78.0/24")
	push := []string{"192.168.78.0/24"}

	// gatekey-admin ca list / ca rotate: the new CA is pending.
	oldCA := s.call(s.admin, "GET", "/api/v1/admin/ca", nil, http.StatusOK).JSON["data"].(map[string]any)
	newCA := s.call(s.admin, "POST", "/api/v1/admin/ca/rotate", map[string]any{"name": "lab CA 2"}, http.StatusCreated).JSON["data"].(map[string]any)
	oldID, newID := oldCA["id"].(string), newCA["id"].(string)

	// While pending, the old CA issues: alice's first profile and the
	// gateway's server certificate come from it; both trust both CAs.
	_, oldProfile := s.generate("openvpn")
	if n := strings.Count(string(oldProfile), "BEGIN CERTIFICATE"); n != 3 {
		t.Fatalf("the profile holds %d certificates, want both CAs and the client's", n)
	}
	server, _, tunnel := s.startOpenVPN(l, openvpn, gwNS, push, "")

	connect := func(name string, profile []byte, serverCA string) {
		t.Helper()
		file := writeFile(t, l.dir, name+".ovpn", profile)
		client := l.start(name, cliNS, openvpn, "--config", file, "--dev", "tun0", "--disable-dco")
		defer client.stop()
		waitLog(t, client, "Initialization Sequence Completed", 30*time.Second)
		if !strings.Contains(client.output(), "VERIFY OK: depth=1, CN="+serverCA) {
			t.Fatalf("%s: the server's certificate is not %s's:\n%s", name, serverCA, client.output())
		}
		eventually(t, 20*time.Second, name+": ping across the tunnel", func() error {
			if out, err := l.exec(cliNS, ping, "-c", "1", "-W", "2", tunnel.String()); err != nil {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		})
	}

	// ca activate: the new CA issues. A client of the new CA reaches the
	// gateway whose certificate is still the old CA's.
	s.call(s.admin, "POST", "/api/v1/admin/ca/"+newID+"/activate", nil, http.StatusOK)
	_, newProfile := s.generate("openvpn")
	connect("rot-new-client", newProfile, oldCA["name"].(string))

	// The gateway's heartbeat asks it to reprovision; its new certificate
	// is the new CA's, and the old CA's client still connects.
	if hb := s.agent("POST", "/api/v1/gateway/heartbeat", map[string]any{}); hb["needs_reprovision"] != true {
		t.Fatalf("heartbeat after activation: %v", hb)
	}
	server.stop()
	server, crlFile, tunnel := s.startOpenVPN(l, openvpn, gwNS, push, "")
	connect("rot-old-client", oldProfile, "lab CA 2")
	var crlURLs []string
	for _, u := range s.provisioned["crl_urls"].([]any) {
		crlURLs = append(crlURLs, u.(string))
	}
	if len(crlURLs) != 2 {
		t.Fatalf("crl_urls = %v, want one per trusted CA", crlURLs)
	}

	// ca revoke of the old CA: alice's old certificate is revoked on the
	// old CA's CRL (the server-wide CA stays in service for other groups).
	// The gateway refreshes each CA's CRL from crl_urls; the old client is
	// refused. OpenVPN 2.6 was seen to keep one of several CRLs stale when
	// a crl-verify file holding more than one is rewritten under it, so
	// the gateway restarts OpenVPN on its refreshed files.
	s.call(s.admin, "POST", "/api/v1/admin/ca/"+oldID+"/revoke", nil, http.StatusOK)
	var crls []byte
	for _, u := range crlURLs {
		crls = append(crls, s.call("", "GET", u, nil, http.StatusOK).Raw...)
	}
	writeAtomic(t, crlFile, crls)
	server.stop()
	server = l.start("openvpn-gateway-reloaded", gwNS, openvpn, "--config", filepath.Join(l.dir, "server.conf"), "--disable-dco")
	waitLog(t, server, "Initialization Sequence Completed", 30*time.Second)
	mark := len(server.output())
	refused := l.start("rot-old-client-revoked", cliNS, openvpn, "--config", writeFile(t, l.dir, "old.ovpn", oldProfile),
		"--dev", "tun0", "--disable-dco")
	defer refused.stop()
	eventually(t, 30*time.Second, "the gateway refuses the revoked CA's client", func() error {
		if log := server.output()[mark:]; !strings.Contains(strings.ToLower(log), "revoked") {
			return fmt.Errorf("gateway log since the new connection:\n%s", log)
		}
		return nil
	})
	if strings.Contains(refused.output(), "Initialization Sequence Completed") {
		t.Fatalf("the revoked CA's client connected:\n%s", refused.output())
	}
	// The new CA's client still connects to the same gateway.
	connect("rot-new-client-again", newProfile, "lab CA 2")
}
