package gatekey_test

import (
	"context"
	"crypto/x509"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"netkeep/internal/pki"
	"netkeep/internal/server/servertest"
)

// The answers as GateKey's mesh agents decode them (cmd/gatekey-hub,
// cmd/gatekey-mesh-gateway): their own field names and types.

// gkHubProvision is gatekey-hub's ProvisionResponse.
type gkHubProvision struct {
	CACert         string `json:"cacert"`
	ServerCert     string `json:"servercert"`
	ServerKey      string `json:"serverkey"`
	DHParams       string `json:"dhparams"`
	TLSAuthEnabled bool   `json:"tlsauthenabled"`
	TLSAuthKey     string `json:"tlsauthkey"`
	VPNPort        int    `json:"vpnport"`
	VPNProtocol    string `json:"vpnprotocol"`
	VPNSubnet      string `json:"vpnsubnet"`
	CryptoProfile  string `json:"cryptoprofile"`
	ConfigVersion  string `json:"configversion"`
}

// gkHubBeat is gatekey-hub's HeartbeatResponse.
type gkHubBeat struct {
	OK               bool   `json:"ok"`
	NeedsReprovision bool   `json:"needsReprovision"`
	ConfigVersion    string `json:"configVersion"`
}

// gkHubSpokes is what gatekey-hub reads of /mesh-hub/spokes.
type gkHubSpokes struct {
	Spokes []struct {
		ID            string   `json:"id"`
		Name          string   `json:"name"`
		LocalNetworks []string `json:"localNetworks"`
		TunnelIP      string   `json:"tunnelIp"`
	} `json:"spokes"`
}

// gkHubRule is gatekey-hub's AccessRule, from all-client-rules.
type gkHubRule struct {
	Type     string `json:"type"`
	Value    string `json:"value"`
	Port     string `json:"port"`
	Protocol string `json:"protocol"`
}

// gkSpokeProvision is gatekey-mesh-gateway's ProvisionResponse.
type gkSpokeProvision struct {
	GatewayID      string   `json:"gatewayId"`
	GatewayName    string   `json:"gatewayName"`
	HubEndpoint    string   `json:"hubEndpoint"`
	HubVPNPort     int      `json:"hubVpnPort"`
	HubVPNProtocol string   `json:"hubVpnProtocol"`
	CACert         string   `json:"caCert"`
	ClientCert     string   `json:"clientCert"`
	ClientKey      string   `json:"clientKey"`
	TunnelIP       string   `json:"tunnelIp"`
	LocalNetworks  []string `json:"localNetworks"`
	TLSAuthEnabled bool     `json:"tlsAuthEnabled"`
	TLSAuthKey     string   `json:"tlsAuthKey"`
	CryptoProfile  string   `json:"cryptoProfile"`
	ConfigVersion  string   `json:"configVersion"`
}

// gkSpokeBeat is gatekey-mesh-gateway's HeartbeatResponse.
type gkSpokeBeat struct {
	OK               bool   `json:"ok"`
	ConfigVersion    string `json:"configVersion"`
	NeedsReprovision bool   `json:"needsReprovision"`
	TLSAuthEnabled   bool   `json:"tlsAuthEnabled"`
}

// meshAgent calls path as GateKey's mesh agents do: Go's default client,
// the token in the JSON body (POST) or the query (GET).
func (f *gwFixture) meshAgent(tb testing.TB, token, method, path string, body map[string]any) *servertest.Response {
	tb.Helper()
	if method == "GET" {
		return f.e.Do(tb, method, path+"?token="+token, nil, goClient...)
	}
	if body == nil {
		body = map[string]any{}
	}
	body["token"] = token
	return f.e.Do(tb, method, path, body, goClient...)
}

// meshProvisionToken provisions a mesh node as the admin UI does and
// returns the token written into its agent's configuration.
func (f *gwFixture) meshProvisionToken(tb testing.TB, path string) string {
	tb.Helper()
	var out gkAdminProvision
	decodeAs(tb, f.program(tb, f.admin, "POST", path, nil), 200, &out)
	return out.Token
}

// chainsTo fails unless cert verifies against the CAs of bundle for usage.
func chainsTo(tb testing.TB, cert *x509.Certificate, bundle string, usage x509.ExtKeyUsage) {
	tb.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(bundle)) {
		tb.Fatal("no CA in the bundle")
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		tb.Fatalf("%s does not verify: %v", cert.Subject.CommonName, err)
	}
}

// TestMeshAgentsContract replays gatekey-hub and gatekey-mesh-gateway
// against a hub with a gateway spoke and a network spoke: each provisions
// with the token its admin provisioning wrote, heartbeats, and the hub
// learns its spokes, routes and clients' rules; another group's hub and
// the wrong kind of node are refused.
func TestMeshAgentsContract(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		hubGW, _ := f.gateway(t, map[string]any{"name": "hub", "hostname": "hub.example.com"})
		spokeGW, _ := f.gateway(t, map[string]any{"name": "branch"})
		_, loneTok := f.gateway(t, map[string]any{"name": "lone"})
		f.network(t, "10.1.0.0/16", hubGW)
		branchNet := f.network(t, "10.2.0.0/16", spokeGW)
		lan := f.network(t, "10.3.0.0/16")
		hubID := want(t, f.do(t, f.admin, "POST", "/api/v1/admin/mesh/hubs", map[string]any{"name": "core", "gateway_id": hubGW,
			"spokes": []map[string]any{{"type": "gateway", "id": spokeGW}, {"type": "network", "id": lan}}}), 201)["id"].(string)
		hubTok := f.meshProvisionToken(t, "/api/v1/admin/mesh/hubs/"+hubID+"/provision")
		spokeTok := f.meshProvisionToken(t, "/api/v1/admin/mesh/spokes/"+hubID+":"+spokeGW+"/provision")

		// The hub provisions: its OpenVPN server's material.
		var hp gkHubProvision
		decodeAs(t, f.meshAgent(t, hubTok, "POST", "/api/v1/mesh-hub/provision", nil), 200, &hp)
		server := parseCert(t, hp.ServerCert)
		chainsTo(t, server, hp.CACert, x509.ExtKeyUsageServerAuth)
		if !slices.Contains(server.DNSNames, "hub.example.com") || !strings.Contains(hp.ServerKey, "PRIVATE KEY") ||
			!hp.TLSAuthEnabled || !strings.Contains(hp.TLSAuthKey, "OpenVPN Static key V1") || hp.VPNPort != 1194 ||
			hp.VPNProtocol != "udp" || hp.VPNSubnet != "10.8.0.0/24" || hp.ConfigVersion == "" || hp.DHParams != "" {
			t.Fatalf("hub provisioning = %+v", hp)
		}
		f.audited(t, "gateway.provision", "gateway:"+hubGW)

		// Its heartbeat: the version it keeps is current; an old one asks
		// for provisioning again.
		for _, c := range []struct {
			name, reported string
			needs          bool
		}{{"current", hp.ConfigVersion, false}, {"none yet", "", false}, {"stale", "0123456789abcdef", true}} {
			var beat gkHubBeat
			decodeAs(t, f.meshAgent(t, hubTok, "POST", "/api/v1/mesh-hub/heartbeat",
				map[string]any{"status": "online", "connectedGateways": 1, "connectedClients": 0, "configVersion": c.reported}), 200, &beat)
			if !beat.OK || beat.NeedsReprovision != c.needs || beat.ConfigVersion != hp.ConfigVersion {
				t.Errorf("%s: heartbeat = %+v", c.name, beat)
			}
		}

		// It learns its spokes (by query token) and routes (by bearer).
		var spokes gkHubSpokes
		decodeAs(t, f.meshAgent(t, hubTok, "GET", "/api/v1/mesh-hub/spokes", nil), 200, &spokes)
		if len(spokes.Spokes) != 1 || spokes.Spokes[0].Name != "branch" ||
			strings.Join(spokes.Spokes[0].LocalNetworks, ",") != "10.2.0.0/16" {
			t.Fatalf("spokes = %+v", spokes)
		}
		tunnel := netip.MustParseAddr(spokes.Spokes[0].TunnelIP)
		if !netip.MustParsePrefix("10.8.0.128/25").Contains(tunnel) || tunnel == netip.MustParseAddr("10.8.0.255") {
			t.Fatalf("tunnel address %s is outside the upper half of the hub's subnet", tunnel)
		}
		r := e.Do(t, "GET", "/api/v1/mesh-hub/routes", nil, append(goClient, "Authorization", "Bearer "+hubTok)...)
		if got := strings.Join(servertest.Strings(r.JSON["routes"]), ","); r.Status != 200 || got != "10.2.0.0/16,10.3.0.0/16" {
			t.Fatalf("routes = %d %s", r.Status, r.Raw)
		}

		// The spoke provisions through either path: a client certificate
		// named as the hub's client-config-dir expects, the hub's tls-auth
		// key and its tunnel address; the certificate it replaces is revoked.
		var sp, again gkSpokeProvision
		decodeAs(t, f.meshAgent(t, spokeTok, "POST", "/api/v1/mesh-gateway/provision", nil), 200, &sp)
		client := parseCert(t, sp.ClientCert)
		chainsTo(t, client, sp.CACert, x509.ExtKeyUsageClientAuth)
		if client.Subject.CommonName != "mesh-gateway-branch" || sp.GatewayID != spokeGW || sp.GatewayName != "branch" ||
			sp.HubEndpoint != "hub.example.com" || sp.HubVPNPort != 1194 || sp.HubVPNProtocol != "udp" ||
			sp.TLSAuthKey != hp.TLSAuthKey || !sp.TLSAuthEnabled || sp.TunnelIP != tunnel.String() ||
			strings.Join(sp.LocalNetworks, ",") != "10.2.0.0/16" || sp.ConfigVersion == "" || !strings.Contains(sp.ClientKey, "PRIVATE KEY") {
			t.Fatalf("spoke provisioning = %+v", sp)
		}
		f.audited(t, "mesh-spoke.provision", "gateway:"+spokeGW)
		decodeAs(t, f.meshAgent(t, spokeTok, "POST", "/api/v1/mesh-spoke/provision", nil), 200, &again)
		if c, err := e.Server.PKI.Certificate(context.Background(), pki.SerialOf(client.SerialNumber)); err != nil || !c.Revoked() {
			t.Fatalf("the replaced spoke certificate: %+v, %v", c, err)
		}
		for _, path := range []string{"/api/v1/mesh-gateway/heartbeat", "/api/v1/mesh-spoke/heartbeat"} {
			var beat gkSpokeBeat
			decodeAs(t, f.meshAgent(t, spokeTok, "POST", path, map[string]any{"status": "connected", "remoteIp": "",
				"bytesSent": 0, "bytesReceived": 0, "configVersion": again.ConfigVersion}), 200, &beat)
			if !beat.OK || beat.NeedsReprovision || beat.ConfigVersion != again.ConfigVersion || !beat.TLSAuthEnabled {
				t.Fatalf("%s = %+v", path, beat)
			}
		}

		// Clients' rules: alice may reach ssh behind the spoke, bob nothing;
		// an unknown name and another group's user get nothing either.
		f.rule(t, map[string]any{"network_id": branchNet, "destination": "10.2.0.0/24", "protocol": "tcp",
			"ports": "22", "user_ids": []int64{f.alice.ID}})
		var all struct {
			ClientRules map[string][]gkHubRule `json:"clientRules"`
		}
		decodeAs(t, f.meshAgent(t, hubTok, "POST", "/api/v1/mesh-hub/all-client-rules",
			map[string]any{"clients": []string{"alice", "bob", "nobody", "gw-foreign"}}), 200, &all)
		wantRule := gkHubRule{Type: "cidr", Value: "10.2.0.0/24", Port: "22", Protocol: "tcp"}
		if a := all.ClientRules["alice"]; len(a) != 1 || a[0] != wantRule {
			t.Fatalf("alice's rules = %+v", all.ClientRules)
		}
		for _, cn := range []string{"bob", "nobody", "gw-foreign"} {
			if rules, ok := all.ClientRules[cn]; !ok || len(rules) != 0 {
				t.Errorf("%s's rules = %+v, %v", cn, rules, ok)
			}
		}
		var one struct {
			Rules []gkHubRule `json:"rules"`
		}
		decodeAs(t, f.meshAgent(t, hubTok, "POST", "/api/v1/mesh-hub/client-rules", map[string]any{"clientEmail": "alice"}), 200, &one)
		if len(one.Rules) != 1 || one.Rules[0] != wantRule {
			t.Fatalf("client-rules = %+v", one)
		}

		// Reports are recorded; a bad one is refused and records nothing.
		var ok struct {
			OK bool `json:"ok"`
		}
		decodeAs(t, f.meshAgent(t, hubTok, "POST", "/api/v1/mesh-hub/spoke-connected", map[string]any{"remoteIp": "203.0.113.7"}), 200, &ok)
		f.audited(t, "mesh-hub.spoke_connected", "gateway:"+hubGW)
		decodeAs(t, f.meshAgent(t, hubTok, "POST", "/api/v1/mesh-hub/client-connected",
			map[string]any{"userId": "alice", "clientIp": "198.51.100.4", "tunnelIp": "10.8.0.6"}), 200, &ok)
		f.audited(t, "mesh-hub.client_connected", "gateway:"+hubGW)
		decodeAs(t, f.meshAgent(t, hubTok, "POST", "/api/v1/mesh-hub/spoke-disconnected", map[string]any{"spokeId": hubID + ":" + spokeGW}), 200, &ok)
		audits := f.count(t, "audit_log")
		for _, c := range []struct {
			name, path string
			body       map[string]any
			status     int
		}{
			{"unknown spoke", "spoke-disconnected", map[string]any{"spokeId": "gw-0000000000000000"}, 404},
			{"bad tunnel address", "client-disconnected", map[string]any{"userId": "alice", "tunnelIp": "10.8.0.x"}, 400},
			{"no client", "client-rules", map[string]any{}, 400},
		} {
			if msg := gkErrorOf(t, f.meshAgent(t, hubTok, "POST", "/api/v1/mesh-hub/"+c.path, c.body), c.status); msg == "" {
				t.Errorf("%s: no message", c.name)
			}
		}
		if n := f.count(t, "audit_log"); n != audits {
			t.Fatalf("refused reports wrote %d audit entries", n-audits)
		}

		// The wrong node, no token, a wrong token.
		for _, c := range []struct {
			name, token, method, path string
			status                    int
		}{
			{"a spoke is no hub", spokeTok, "GET", "/api/v1/mesh-hub/spokes", 403},
			{"a hub is no spoke", hubTok, "POST", "/api/v1/mesh-gateway/provision", 403},
			{"a lone gateway", loneTok, "POST", "/api/v1/mesh-hub/provision", 403},
			{"a lone gateway's spoke heartbeat", loneTok, "POST", "/api/v1/mesh-spoke/heartbeat", 403},
			{"no token", "", "POST", "/api/v1/mesh-hub/heartbeat", 401},
			{"a wrong token", "gwt_not-a-token", "GET", "/api/v1/mesh-hub/routes", 401},
		} {
			gkErrorOf(t, f.meshAgent(t, c.token, c.method, c.path, nil), c.status)
		}

		// Another group's hub sees its own spoke only, and no acme user.
		gd := want(t, f.do(t, f.foreign, "POST", "/api/v1/admin/gateways", map[string]any{"name": "ghub", "hostname": "ghub.example.com"}), 201)
		gs := want(t, f.do(t, f.foreign, "POST", "/api/v1/admin/gateways", map[string]any{"name": "gsite", "hostname": "gsite.example.com"}), 201)
		want(t, f.do(t, f.foreign, "POST", "/api/v1/admin/mesh/hubs", map[string]any{"name": "gcore", "gateway_id": gd["id"],
			"spokes": []map[string]any{{"type": "gateway", "id": gs["id"]}}}), 201)
		var foreign gkHubSpokes
		decodeAs(t, f.meshAgent(t, gd["token"].(string), "GET", "/api/v1/mesh-hub/spokes", nil), 200, &foreign)
		if len(foreign.Spokes) != 1 || foreign.Spokes[0].Name != "gsite" {
			t.Fatalf("globex's hub sees %+v", foreign)
		}
		decodeAs(t, f.meshAgent(t, gd["token"].(string), "POST", "/api/v1/mesh-hub/all-client-rules",
			map[string]any{"clients": []string{"alice"}}), 200, &all)
		if len(all.ClientRules["alice"]) != 0 {
			t.Fatalf("globex's hub gets acme's rules: %+v", all.ClientRules)
		}
		gkErrorOf(t, f.meshAgent(t, gd["token"].(string), "POST", "/api/v1/mesh-hub/spoke-disconnected",
			map[string]any{"spokeId": hubID + ":" + spokeGW}), 404)
	})
}
