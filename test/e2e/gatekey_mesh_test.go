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

	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/testpeer"
)

// goAgent is GateKey's mesh agents' User-Agent: Go's default.
var goAgent = []string{"User-Agent", "Go-http-client/1.1"}

// TestGateKeyMeshHub runs real OpenVPN as GateKey's mesh agents set it up
// from netkeep's answers: a hub in one namespace, its OpenVPN server
// configured from /api/v1/mesh-hub/provision and its spoke's
// client-config-dir file from /api/v1/mesh-hub/spokes, as gatekey-hub
// writes them; a spoke in another, its OpenVPN client configured from
// /api/v1/mesh-gateway/provision as gatekey-mesh-gateway writes it. The
// hub accepts the spoke's certificate under the name its file carries, the
// spoke gets the tunnel address netkeep chose, and they ping each other
// through the tunnel. The configuration files have gatekey-hub's and
// gatekey-mesh-gateway's directives, except that gatekey-hub generates a
// 2048-bit dh.pem, where the test says "dh none" (netkeep's certificates
// are ECDSA: the handshake is the same), and the files' paths and log
// options.
func TestGateKeyMeshHub(t *testing.T) {
	l := newLab(t)
	openvpn := testpeer.Command(t, "openvpn", "openvpn")
	ping := testpeer.Command(t, "ping", "iputils-ping")
	hubNS, spokeNS := l.host("mhub", 1), l.host("mspk", 2)
	hubAddr := labSubnet + "1"

	e := servertest.Start(t, config.SQLite)
	e.CreateUser(t, "mesh-admin", "password1", identity.GroupAdmin, "acme")
	admin, _ := e.Login(t, "mesh-admin", "password1")
	call := func(method, path string, body any, want int, headers ...string) *servertest.Response {
		t.Helper()
		r := e.Do(t, method, path, body, headers...)
		if r.Status != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, r.Status, want, r.Raw)
		}
		return r
	}
	asAdmin := servertest.Bearer(admin)
	data := func(r *servertest.Response) map[string]any { return r.JSON["data"].(map[string]any) }
	hubGW := data(call("POST", "/api/v1/admin/gateways", map[string]any{"name": "hub", "hostname": hubAddr,
		"port": 1194, "protocol": "udp", "vpn_type": "openvpn"}, http.StatusCreated, asAdmin...))["id"].(string)
	spokeGW := data(call("POST", "/api/v1/admin/gateways", map[string]any{"name": "branch", "hostname": "branch.example.com"},
		http.StatusCreated, asAdmin...))["id"].(string)
	call("POST", "/api/v1/admin/networks", map[string]any{"name": "branch-lan", "cidr": "192.168.78.0/24",
		"gateway_ids": []string{spokeGW}}, http.StatusCreated, asAdmin...)
	hubID := data(call("POST", "/api/v1/admin/mesh/hubs", map[string]any{"name": "core", "gateway_id": hubGW,
		"spokes": []map[string]any{{"type": "gateway", "id": spokeGW}}}, http.StatusCreated, asAdmin...))["id"].(string)
	hubTok := call("POST", "/api/v1/admin/mesh/hubs/"+hubID+"/provision", nil, http.StatusOK, asAdmin...).JSON["token"].(string)
	spokeTok := call("POST", "/api/v1/admin/mesh/spokes/"+hubID+":"+spokeGW+"/provision", nil, http.StatusOK, asAdmin...).JSON["token"].(string)
	str := func(m map[string]any, k string) string {
		t.Helper()
		v, ok := m[k].(string)
		if !ok {
			t.Fatalf("the answer lacks %s: %v", k, m)
		}
		return v
	}

	// The hub: its provisioning and spokes, written as gatekey-hub does.
	hp := call("POST", "/api/v1/mesh-hub/provision", map[string]any{"token": hubTok}, http.StatusOK, goAgent...).JSON
	hubDir := filepath.Join(l.dir, "hub")
	ccd := filepath.Join(hubDir, "ccd")
	if err := os.MkdirAll(ccd, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]string{"ca.crt": "cacert", "server.crt": "servercert", "server.key": "serverkey", "ta.key": "tlsauthkey"} {
		writeFile(t, hubDir, name, []byte(str(hp, key)))
	}
	subnet := netip.MustParsePrefix(str(hp, "vpnsubnet"))
	if subnet.Bits() != 24 || hp["tlsauthenabled"] != true {
		t.Fatalf("hub provisioning: %v", hp)
	}
	hubConf := fmt.Sprintf(`port %d
proto %s
dev tun
ca %[3]s/ca.crt
cert %[3]s/server.crt
key %[3]s/server.key
dh none
tls-auth %[3]s/ta.key 0
server %s 255.255.255.0
client-config-dir %s
client-to-client
keepalive 10 120
cipher AES-256-GCM
data-ciphers AES-256-GCM:CHACHA20-POLY1305
auth SHA256
verb 3
`, int(hp["vpnport"].(float64)), str(hp, "vpnprotocol"), hubDir, subnet.Addr(), ccd)
	spokes := call("GET", "/api/v1/mesh-hub/spokes?token="+hubTok, nil, http.StatusOK, goAgent...).JSON["spokes"].([]any)
	if len(spokes) != 1 {
		t.Fatalf("spokes: %v", spokes)
	}
	sp := spokes[0].(map[string]any)
	tunnel := str(sp, "tunnelIp")
	ccdFile := fmt.Sprintf("ifconfig-push %s 255.255.0.0\niroute 192.168.78.0 255.255.255.0\n", tunnel)
	writeFile(t, ccd, "mesh-gateway-"+str(sp, "name"), []byte(ccdFile))
	hub := l.start("mesh-hub", hubNS, openvpn, "--config", writeFile(t, hubDir, "hub.conf", []byte(hubConf)),
		"--disable-dco")
	waitLog(t, hub, "Initialization Sequence Completed", 30*time.Second)

	// The spoke: its provisioning, written as gatekey-mesh-gateway does.
	spp := call("POST", "/api/v1/mesh-gateway/provision", map[string]any{"token": spokeTok}, http.StatusOK, goAgent...).JSON
	spokeDir := filepath.Join(l.dir, "spoke")
	if err := os.MkdirAll(spokeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]string{"ca.crt": "caCert", "client.crt": "clientCert", "client.key": "clientKey", "ta.key": "tlsAuthKey"} {
		writeFile(t, spokeDir, name, []byte(str(spp, key)))
	}
	if str(spp, "tunnelIp") != tunnel {
		t.Fatalf("the spoke's tunnel address %s, the hub's file %s", spp["tunnelIp"], tunnel)
	}
	spokeConf := fmt.Sprintf(`client
dev tun
proto %s
remote %s %d
ca %[4]s/ca.crt
cert %[4]s/client.crt
key %[4]s/client.key
tls-auth %[4]s/ta.key 1
cipher AES-256-GCM
data-ciphers AES-256-GCM:CHACHA20-POLY1305
auth SHA256
keepalive 10 60
resolv-retry infinite
nobind
verb 3
`, str(spp, "hubVpnProtocol"), str(spp, "hubEndpoint"), int(spp["hubVpnPort"].(float64)), spokeDir)
	spoke := l.start("mesh-spoke", spokeNS, openvpn, "--config", writeFile(t, spokeDir, "mesh-hub.conf", []byte(spokeConf)), "--disable-dco")
	waitLog(t, spoke, "Initialization Sequence Completed", 30*time.Second)
	waitLog(t, hub, "mesh-gateway-branch", 10*time.Second)
	if !strings.Contains(spoke.output(), "ifconfig "+tunnel) {
		t.Fatalf("the hub did not push the spoke's tunnel address %s:\n%s", tunnel, spoke.output())
	}
	hubTunnel := subnet.Masked().Addr().Next().String()
	eventually(t, 20*time.Second, "ping from the spoke to the hub through the tunnel", func() error {
		if out, err := l.exec(spokeNS, ping, "-c", "1", "-W", "2", hubTunnel); err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	if out, err := l.exec(hubNS, ping, "-c", "1", "-W", "2", tunnel); err != nil {
		t.Fatalf("ping from the hub to the spoke's tunnel address: %v: %s", err, out)
	}
}
