package gatekey_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"regexp"
	"strconv"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/authz"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// TestAgentAuthentication: every agent endpoint wants its gateway's own
// X-Gateway-Token, in GateKey's error envelope otherwise.
func TestAgentAuthentication(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		gw, token := f.gateway(t, nil)
		other, _ := f.gateway(t, nil)
		for _, ep := range []string{"heartbeat", "provision", "verify", "connect", "disconnect", "client-rules", "all-rules"} {
			t.Run(ep, func(t *testing.T) {
				wantError(t, f.agent(t, "", ep, nil), 401, "unauthorized")
				wantError(t, f.agent(t, "gwt_"+"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ep, nil), 401, "unauthorized")
				wantError(t, f.agent(t, "not-a-token", ep, nil), 401, "unauthorized")
				// A user's credentials are no gateway token.
				wantError(t, e.Do(t, "POST", "/api/v1/gateway/"+ep, nil, servertest.Bearer(f.admin)...), 401, "unauthorized")
				wantError(t, e.Do(t, "POST", "/api/v1/gateway/"+ep, nil, servertest.Master()...), 401, "unauthorized")
				// One gateway's token cannot act as another.
				wantError(t, f.agent(t, token, ep, map[string]any{"gateway_id": other}), 403, "forbidden")
				wantError(t, f.agent(t, token, ep, `{"gateway_id":`), 400, "invalid")
			})
		}
		// Nothing was recorded for the other gateway.
		d := want(t, f.do(t, f.admin, "GET", "/api/v1/admin/gateways/"+other, nil), 200)
		if d["last_heartbeat"] != nil || d["cert_serial"] != "" {
			t.Fatalf("another gateway's token changed %s: %v", other, d)
		}
		if r := f.agent(t, token, "heartbeat", map[string]any{"gateway_id": gw}); r.Status != 200 {
			t.Fatalf("own gateway_id: %d %s", r.Status, r.Raw)
		}
	})
}

func TestAgentHeartbeatAndProvision(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		gw, token := f.gateway(t, map[string]any{"hostname": "vpn.example.com"})
		ca, err := e.Server.PKI.CA()
		if err != nil {
			t.Fatal(err)
		}

		// Before provisioning the heartbeat asks for it.
		r := f.agent(t, token, "heartbeat", map[string]any{"version": "1.0.0"})
		if r.Status != 200 {
			t.Fatalf("heartbeat: %d %s", r.Status, r.Raw)
		}
		wantKeys(t, "heartbeat", r.JSON, "config_version", "needs_reprovision", "ca_fingerprint")
		if r.JSON["needs_reprovision"] != true || r.JSON["ca_fingerprint"] != ca.Fingerprint || r.JSON["config_version"] != float64(1) {
			t.Fatalf("heartbeat = %s", r.Raw)
		}
		d := want(t, f.do(t, f.admin, "GET", "/api/v1/admin/gateways/"+gw, nil), 200)
		if d["status"] != "online" || d["last_heartbeat"] == nil || d["agent_version"] != "1.0.0" {
			t.Fatalf("after a heartbeat: %v", d)
		}
		if r := f.agent(t, token, "heartbeat", map[string]any{"version": string(make([]byte, 65))}); r.Status != 400 {
			t.Fatalf("long version: %d", r.Status)
		}

		p := f.agent(t, token, "provision", nil)
		if p.Status != 200 || p.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("provision: %d %s", p.Status, p.Raw)
		}
		wantKeys(t, "provision", p.JSON, "gateway_id", "hostname", "port", "protocol", "vpn_type", "vpn_subnet",
			"config_version", "serial", "not_after", "server_cert", "server_key", "ca_cert", "ca_fingerprint",
			"tls_crypt_key", "crl_pem", "crl_urls", "crl_number", "crl_next_update",
			// what GateKey's own agent reads
			"gateway_name", "vpn_network", "vpn_netmask", "vpn_port", "vpn_protocol", "crypto_profile", "tls_auth_enabled", "tls_auth_key")
		// The server certificate is the CA's, for the hostname, for TLS servers,
		// and the key is its own.
		cert := parseCert(t, p.JSON["server_cert"].(string))
		roots := x509.NewCertPool()
		roots.AddCert(ca.Certificate)
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "vpn.example.com",
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Fatalf("server certificate: %v", err)
		}
		kb, _ := pem.Decode([]byte(p.JSON["server_key"].(string)))
		key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
		if err != nil || !key.(*ecdsa.PrivateKey).PublicKey.Equal(cert.PublicKey) {
			t.Fatalf("server key does not match: %v", err)
		}
		if p.JSON["ca_cert"] != string(ca.PEM) || p.JSON["gateway_id"] != gw || p.JSON["hostname"] != "vpn.example.com" {
			t.Fatalf("provision = %v", p.JSON)
		}
		// tls-crypt: an OpenVPN static key V1, 2048 bits, the same every time.
		tc := p.JSON["tls_crypt_key"].(string)
		m := regexp.MustCompile(`(?s)-----BEGIN OpenVPN Static key V1-----\n((?:[0-9a-f]{32}\n){16})-----END OpenVPN Static key V1-----\n$`).FindStringSubmatch(tc)
		if m == nil {
			t.Fatalf("tls-crypt key:\n%s", tc)
		}
		if raw, _ := hex.DecodeString(regexp.MustCompile(`\s`).ReplaceAllString(m[1], "")); len(raw) != 256 {
			t.Fatalf("tls-crypt key has %d bytes", len(raw))
		}
		cb, _ := pem.Decode([]byte(p.JSON["crl_pem"].(string)))
		if cb == nil || cb.Type != "X509 CRL" {
			t.Fatal("no CRL PEM")
		}
		if _, err := x509.ParseRevocationList(cb.Bytes); err != nil {
			t.Fatal(err)
		}
		key2, err := e.Server.Gateways.TLSCryptKey(context.Background(), gw)
		if err != nil || string(key2) != tc {
			t.Fatalf("TLSCryptKey differs from the provisioned key: %v", err)
		}
		// The key is stored sealed, not in clear.
		var sealed []byte
		if err := e.DB.SQL().QueryRow(`SELECT tls_crypt_sealed FROM gateways WHERE id = $1`, gw).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if regexp.MustCompile(m[1][:32]).Match(sealed) {
			t.Fatal("the tls-crypt key is stored in clear")
		}
		f.audited(t, "gateway.provision", "gateway:"+gw)

		// Provisioned: no reprovisioning until the hostname changes.
		if r := f.agent(t, token, "heartbeat", nil); r.JSON["needs_reprovision"] != false {
			t.Fatalf("after provisioning: %s", r.Raw)
		}
		want(t, f.do(t, f.admin, "PUT", "/api/v1/admin/gateways/"+gw, map[string]any{"hostname": "vpn2.example.com"}), 200)
		r = f.agent(t, token, "heartbeat", nil)
		if r.JSON["needs_reprovision"] != true || r.JSON["config_version"] != float64(2) {
			t.Fatalf("after a hostname change: %s", r.Raw)
		}
		// Reprovisioning supersedes (revokes) the old certificate, and the
		// CRL handed out already lists it.
		p2 := f.agent(t, token, "provision", nil)
		if p2.Status != 200 || parseCert(t, p2.JSON["server_cert"].(string)).Subject.CommonName != "vpn2.example.com" {
			t.Fatalf("reprovision: %d %s", p2.Status, p2.Raw)
		}
		chk := e.Do(t, "GET", "/api/v1/pki/check/"+p.JSON["serial"].(string), nil)
		if chk.JSON["revoked"] != true || chk.JSON["reason"] != "superseded" {
			t.Fatalf("old certificate: %s", chk.Raw)
		}
		cb, _ = pem.Decode([]byte(p2.JSON["crl_pem"].(string)))
		crl, err := x509.ParseRevocationList(cb.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		listed := false
		for _, entry := range crl.RevokedCertificateEntries {
			listed = listed || entry.SerialNumber.Cmp(cert.SerialNumber) == 0
		}
		if !listed {
			t.Fatal("the provisioned CRL does not list the superseded certificate")
		}
		if r := f.agent(t, token, "heartbeat", nil); r.JSON["needs_reprovision"] != false {
			t.Fatalf("after reprovisioning: %s", r.Raw)
		}
		// Revoking the current certificate asks for reprovisioning.
		want(t, f.do(t, f.admin, "POST", "/api/v1/admin/pki/revoke", map[string]any{"serial": p2.JSON["serial"]}), 200)
		if r := f.agent(t, token, "heartbeat", nil); r.JSON["needs_reprovision"] != true {
			t.Fatalf("after revocation: %s", r.Raw)
		}
	})
}

func parseCert(tb testing.TB, s string) *x509.Certificate {
	tb.Helper()
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		tb.Fatalf("no PEM in %q", s)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// foreignCert is a client certificate from a CA netkeep does not know.
func foreignCert(tb testing.TB) string {
	tb.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "alice"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestAgentVerify(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		gw, token := f.gateway(t, nil)
		net := f.network(t, "10.1.0.0/16", gw)
		f.rule(t, map[string]any{"network_id": net, "group_ids": []int64{f.acmeAdmin.GroupID}, "protocol": "tcp", "ports": "443"})
		good := f.issue(t, f.alice)
		revoked := f.issue(t, f.alice)
		want(t, f.do(t, f.admin, "POST", "/api/v1/admin/pki/revoke", map[string]any{"serial": revoked.Certificate.Serial, "reason": "keyCompromise"}), 200)
		inactive := f.issue(t, f.bob)
		if _, err := e.Server.Identity.UpdateUser(context.Background(), masterPrincipal, servertest.Src, f.bob.ID,
			identity.UserPatch{IsActive: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		server := want(t, f.do(t, f.admin, "POST", "/api/v1/admin/gateways", map[string]any{"name": "s", "hostname": "s.example.com"}), 201)
		prov := f.agent(t, server["token"].(string), "provision", nil)
		foreignUser := f.issue(t, f.globexAdmin)
		serial := string(good.Certificate.Serial)
		colons := regexp.MustCompile(`(..)`).ReplaceAllString(serial, "$1:")
		for _, tc := range []struct {
			name   string
			body   map[string]any
			status int
			reason string
		}{
			{"200/serial", map[string]any{"serial": serial}, 200, ""},
			{"200/serial as openssl prints it", map[string]any{"serial": colons[:len(colons)-1], "common_name": "alice"}, 200, ""},
			{"200/certificate", map[string]any{"certificate": string(good.CertPEM)}, 200, ""},
			{"200/certificate and serial", map[string]any{"certificate": string(good.CertPEM), "serial": serial}, 200, ""},
			{"400/nothing", map[string]any{}, 400, ""},
			{"400/malformed serial", map[string]any{"serial": "xyz"}, 400, ""},
			{"400/malformed certificate", map[string]any{"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, 400, ""},
			{"400/serial of another certificate", map[string]any{"certificate": string(good.CertPEM), "serial": string(revoked.Certificate.Serial)}, 400, ""},
			{"403/unknown serial", map[string]any{"serial": "0123456789ABCDEF"}, 403, "unknown_certificate"},
			{"403/revoked", map[string]any{"serial": string(revoked.Certificate.Serial)}, 403, "certificate_revoked"},
			{"403/revoked certificate", map[string]any{"certificate": string(revoked.CertPEM)}, 403, "certificate_revoked"},
			{"403/another CA", map[string]any{"certificate": foreignCert(t)}, 403, "untrusted_certificate"},
			{"403/common name", map[string]any{"serial": serial, "common_name": "mallory"}, 403, "common_name_mismatch"},
			{"403/inactive user", map[string]any{"serial": string(inactive.Certificate.Serial)}, 403, "user_inactive"},
			{"403/server certificate", map[string]any{"serial": prov.JSON["serial"]}, 403, "not_a_client_certificate"},
			{"403/another group's user", map[string]any{"serial": string(foreignUser.Certificate.Serial)}, 403, "access_denied"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for _, ep := range []string{"verify", "client-rules"} {
					r := f.agent(t, token, ep, tc.body)
					switch tc.status {
					case 200:
						if r.Status != 200 {
							t.Fatalf("%s: %d %s", ep, r.Status, r.Raw)
						}
						wantKeys(t, ep, r.JSON, "allowed", "user_id", "username", "common_name", "serial", "expires_at", "cidrs", "rules")
						rules := r.JSON["rules"].([]any)
						if r.JSON["user_id"] != float64(f.alice.ID) || r.JSON["serial"] != serial || len(rules) != 1 ||
							rules[0].(map[string]any)["ports"] != "443" || rules[0].(map[string]any)["protocol"] != "tcp" {
							t.Fatalf("%s = %s", ep, r.Raw)
						}
					case 400:
						wantError(t, r, 400, "invalid")
					default:
						wantError(t, r, 403, "forbidden")
						if got := r.JSON["error"].(map[string]any)["details"].(map[string]any)["reason"]; got != tc.reason {
							t.Fatalf("%s: reason = %v, want %s", ep, got, tc.reason)
						}
					}
				}
			})
		}
	})
}

var masterPrincipal = &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}

func ptr[T any](v T) *T { return &v }

func TestAgentSessions(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		gw, token := f.gateway(t, nil)
		net := f.network(t, "10.1.0.0/16", gw)
		f.rule(t, map[string]any{"network_id": net, "user_ids": []int64{f.alice.ID}})
		cert := f.issue(t, f.alice)
		serial := string(cert.Certificate.Serial)
		bobCert := f.issue(t, f.bob)

		// A refused client gets no session.
		wantError(t, f.agent(t, token, "connect", map[string]any{"serial": string(bobCert.Certificate.Serial)}), 403, "forbidden")
		wantError(t, f.agent(t, token, "connect", map[string]any{"serial": serial, "client_ip": "not-an-ip"}), 400, "invalid")
		if n := f.count(t, "vpn_sessions"); n != 0 {
			t.Fatalf("%d sessions after refusals", n)
		}

		r := f.agent(t, token, "connect", map[string]any{"serial": serial, "common_name": "alice",
			"client_ip": "198.51.100.7", "vpn_address": "10.8.0.6"})
		if r.Status != 201 {
			t.Fatalf("connect: %d %s", r.Status, r.Raw)
		}
		sessionFields := []string{"id", "gateway_id", "user_id", "username", "common_name", "serial", "client_ip",
			"vpn_address", "active", "connected_at", "disconnected_at", "bytes_received", "bytes_sent"}
		wantKeys(t, "session", r.JSON, sessionFields...)
		first := r.JSON["id"].(string)
		if r.JSON["active"] != true || r.JSON["gateway_id"] != gw || r.JSON["user_id"] != float64(f.alice.ID) || r.JSON["client_ip"] != "198.51.100.7" {
			t.Fatalf("session = %s", r.Raw)
		}
		f.audited(t, "vpn-session.connect", "vpn-session:"+first)

		list := func(tok, query string) []any {
			r := f.do(t, tok, "GET", "/api/v1/admin/sessions"+query, nil)
			want(t, r, 200)
			wantKeys(t, "meta", r.JSON["meta"], "total", "page", "per_page")
			return r.JSON["data"].([]any)
		}
		if s := list(f.admin, "?active=true"); len(s) != 1 || s[0].(map[string]any)["id"] != first {
			t.Fatalf("active sessions = %v", s)
		}
		if s := list(f.foreign, ""); len(s) != 0 {
			t.Fatalf("globex sees acme's sessions: %v", s)
		}
		if s := list(f.foreign, "?gateway_id="+gw); len(s) != 0 {
			t.Fatalf("globex sees acme's gateway's sessions: %v", s)
		}
		wantError(t, f.do(t, f.user, "GET", "/api/v1/admin/sessions", nil), 403, "forbidden")
		wantError(t, f.do(t, f.admin, "GET", "/api/v1/admin/sessions?active=maybe", nil), 400, "invalid")

		// Reconnecting closes the old session.
		r = f.agent(t, token, "connect", map[string]any{"serial": serial})
		second := r.JSON["id"].(string)
		if r.Status != 201 || second == first {
			t.Fatalf("reconnect: %d %s", r.Status, r.Raw)
		}
		if s := list(f.admin, "?active=true"); len(s) != 1 || s[0].(map[string]any)["id"] != second {
			t.Fatalf("after reconnecting: %v", s)
		}

		r = f.agent(t, token, "disconnect", map[string]any{"serial": serial, "bytes_received": 1000, "bytes_sent": 2000})
		if r.Status != 200 || r.JSON["active"] != false || r.JSON["bytes_received"] != float64(1000) || r.JSON["disconnected_at"] == nil {
			t.Fatalf("disconnect: %d %s", r.Status, r.Raw)
		}
		f.audited(t, "vpn-session.disconnect", "vpn-session:"+second)
		wantError(t, f.agent(t, token, "disconnect", map[string]any{"serial": serial}), 404, "not_found")
		wantError(t, f.agent(t, token, "disconnect", map[string]any{"serial": serial, "bytes_sent": -1}), 400, "invalid")
		if s := list(f.admin, "?active=true"); len(s) != 0 {
			t.Fatalf("open sessions after disconnecting: %v", s)
		}
		all := list(f.admin, "?gateway_id="+gw)
		if len(all) != 2 || all[0].(map[string]any)["id"] != second {
			t.Fatalf("all sessions = %v", all)
		}
		if s := list(f.admin, "?per_page=1&page=2"); len(s) != 1 || s[0].(map[string]any)["id"] != first {
			t.Fatalf("second page = %v", s)
		}

		// A revoked client's disconnection is still recorded.
		want(t, f.agent(t, token, "connect", map[string]any{"serial": serial}), 201)
		want(t, f.do(t, f.admin, "POST", "/api/v1/admin/pki/revoke", map[string]any{"serial": serial}), 200)
		if r := f.agent(t, token, "disconnect", map[string]any{"serial": serial}); r.Status != 200 {
			t.Fatalf("disconnect after revocation: %d %s", r.Status, r.Raw)
		}
	})
}

func TestAgentAllRules(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		gw, token := f.gateway(t, nil)
		other, _ := f.gateway(t, nil)
		mine := f.network(t, "10.1.0.0/16", gw)
		theirs := f.network(t, "10.2.0.0/16", other)
		f.rule(t, map[string]any{"network_id": mine, "user_ids": []int64{f.alice.ID}, "protocol": "udp", "ports": "53"})
		f.rule(t, map[string]any{"network_id": mine, "user_ids": []int64{f.bob.ID}, "enabled": false})
		f.rule(t, map[string]any{"network_id": theirs, "user_ids": []int64{f.alice.ID}})
		r := f.agent(t, token, "all-rules", nil)
		if r.Status != 200 {
			t.Fatalf("all-rules: %d %s", r.Status, r.Raw)
		}
		wantKeys(t, "all-rules", r.JSON, "gateway_id", "config_version", "networks", "rules", "hubs")
		nets, rules := r.JSON["networks"].([]any), r.JSON["rules"].([]any)
		if len(nets) != 1 || nets[0].(map[string]any)["cidr"] != "10.1.0.0/16" || len(rules) != 1 {
			t.Fatalf("all-rules = %s", r.Raw)
		}
		wantKeys(t, "rule", rules[0], ruleFields...)
		if rules[0].(map[string]any)["ports"] != "53" {
			t.Fatalf("rule = %v", rules[0])
		}
		// Every change to what the gateway enforces raises its version.
		v := r.JSON["config_version"].(float64)
		f.rule(t, map[string]any{"network_id": mine, "user_ids": []int64{f.bob.ID}})
		if hb := f.agent(t, token, "heartbeat", nil); hb.JSON["config_version"].(float64) != v+1 {
			t.Fatalf("version after a new rule: %s (was %v)", hb.Raw, v)
		}
		if r := f.agent(t, token, "all-rules", nil); len(r.JSON["rules"].([]any)) != 2 {
			t.Fatalf("rules after a new one: %s", r.Raw)
		}
	})
}

// TestHeartbeatPublicKey: a WireGuard gateway's agent reports its public
// key (it keeps the private one); a change is audited, a bad key refused.
func TestHeartbeatPublicKey(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		wg, wgToken := f.gateway(t, map[string]any{"vpn_type": "wireguard", "port": 51820})
		_, ovpnToken := f.gateway(t, nil)
		priv, err := wgtypes.GeneratePrivateKey()
		if err != nil {
			t.Fatal(err)
		}
		pub := priv.PublicKey().String()
		wantError(t, f.agent(t, wgToken, "heartbeat", map[string]any{"public_key": "not-a-key"}), 400, "invalid")
		wantError(t, f.agent(t, ovpnToken, "heartbeat", map[string]any{"public_key": pub}), 400, "invalid")
		if d := want(t, f.do(t, f.admin, "GET", "/api/v1/admin/gateways/"+wg, nil), 200); d["public_key"] != "" || d["last_heartbeat"] != nil {
			t.Fatalf("a refused heartbeat changed the gateway: %v", d)
		}
		if r := f.agent(t, wgToken, "heartbeat", map[string]any{"public_key": pub}); r.Status != 200 {
			t.Fatalf("heartbeat: %d %s", r.Status, r.Raw)
		}
		if d := want(t, f.do(t, f.admin, "GET", "/api/v1/admin/gateways/"+wg, nil), 200); d["public_key"] != pub {
			t.Fatalf("public_key = %v, want %s", d["public_key"], pub)
		}
		f.audited(t, "gateway.public_key", "gateway:"+wg)
		if g, err := e.Server.Gateways.UsableGateways(context.Background(), masterPrincipal); err != nil || len(g) != 0 {
			t.Fatalf("the master key has no user to use gateways as: %v, %v", g, err)
		}
	})
}

// TestHeartbeatRateLimit: HeartbeatLimit per gateway, with the headers and
// GateKey's 429 envelope; another gateway has its own budget.
func TestHeartbeatRateLimit(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		_, token := f.gateway(t, nil)
		_, other := f.gateway(t, nil)
		for i := 1; i <= 120; i++ {
			r := f.agent(t, token, "heartbeat", nil)
			if r.Status != 200 {
				t.Fatalf("heartbeat %d: %d %s", i, r.Status, r.Raw)
			}
			if r.Header.Get("X-Ratelimit-Limit") != "120" || r.Header.Get("X-Ratelimit-Remaining") != strconv.Itoa(120-i) {
				t.Fatalf("heartbeat %d headers: %v", i, r.Header)
			}
		}
		r := f.agent(t, token, "heartbeat", nil)
		wantError(t, r, 429, "rate_limited")
		if r.Header.Get("Retry-After") == "" || r.Header.Get("X-Ratelimit-Remaining") != "0" {
			t.Fatalf("429 headers: %v", r.Header)
		}
		if r := f.agent(t, other, "heartbeat", nil); r.Status != 200 {
			t.Fatalf("another gateway: %d", r.Status)
		}
	})
}

// TestAdminRateLimit: AdminLimit per user across the admin API, whatever
// the credential.
func TestAdminRateLimit(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		for i := 1; i <= 100; i++ {
			r := f.do(t, f.admin, "GET", "/api/v1/admin/networks", nil)
			if r.Status != 200 || r.Header.Get("X-Ratelimit-Limit") != "100" {
				t.Fatalf("request %d: %d %v", i, r.Status, r.Header)
			}
		}
		second := login(t, e, "gw-admin") // another session of the same user shares the budget
		r := f.do(t, second, "GET", "/api/v1/admin/gateways", nil)
		wantError(t, r, 429, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Fatalf("no Retry-After: %v", r.Header)
		}
		// Every admin route draws on the same budget.
		wantError(t, f.do(t, f.admin, "GET", "/api/v1/admin/users", nil), 429, "rate_limited")
		wantError(t, f.do(t, f.admin, "POST", "/api/v1/admin/pki/revoke", map[string]any{"serial": "01", "reason": "superseded"}), 429, "rate_limited")
		if r := f.do(t, f.foreign, "GET", "/api/v1/admin/gateways", nil); r.Status != 200 {
			t.Fatalf("another user: %d", r.Status)
		}
		// The user API is not part of the admin budget.
		if r := f.do(t, f.admin, "GET", "/api/v1/gateways", nil); r.Status != 200 {
			t.Fatalf("user API: %d", r.Status)
		}
	})
}
