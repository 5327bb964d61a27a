package gatekey_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"netkeep/internal/pki/pkitest"
	"netkeep/internal/server/servertest"
)

// cfgFixture is a gwFixture with one OpenVPN gateway that alice (a USER)
// may use through an access rule; bob (a USER of the same group) has no
// rule.
type cfgFixture struct {
	*gwFixture
	gw, token string
}

func newCfgFixture(t *testing.T, e *servertest.Env) *cfgFixture {
	t.Helper()
	f := &cfgFixture{gwFixture: newGWFixture(t, e)}
	f.gw, f.token = f.gateway(t, map[string]any{"name": "office east", "hostname": "vpn.example.com", "port": 1195, "protocol": "tcp"})
	net := f.network(t, "10.20.0.0/16", f.gw)
	f.rule(t, map[string]any{"network_id": net, "user_ids": []int64{f.alice.ID}})
	return f
}

// generate asks for a config as token and returns its id.
func (f *cfgFixture) generate(tb testing.TB, token string) string {
	tb.Helper()
	r := f.do(tb, token, "POST", "/api/v1/configs/generate", map[string]any{"gateway_id": f.gw, "protocol": "openvpn"})
	if r.Status != http.StatusOK {
		tb.Fatalf("generate: %d %s", r.Status, r.Raw)
	}
	return r.JSON["config_id"].(string)
}

// block returns the body of <tag>...</tag> in an .ovpn profile.
func block(tb testing.TB, profile, tag string) string {
	tb.Helper()
	m := regexp.MustCompile(`(?s)\n<` + tag + `>\n(.*?)\n</` + tag + `>\n`).FindStringSubmatch(profile)
	if m == nil {
		tb.Fatalf("no <%s> block in:\n%s", tag, profile)
	}
	return m[1]
}

func TestConfigGenerateAndDownload(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newCfgFixture(t, e)
		before := time.Now()
		r := f.do(t, f.user, "POST", "/api/v1/configs/generate", map[string]any{"gateway_id": f.gw, "protocol": "openvpn"})
		if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("generate: %d %v %s", r.Status, r.Header, r.Raw)
		}
		id, _ := r.JSON["config_id"].(string)
		if !regexp.MustCompile(`^cfg-[0-9a-f]{16}$`).MatchString(id) || r.JSON["download_url"] != "/api/v1/configs/download/"+id ||
			r.JSON["id"] != id || r.JSON["downloadUrl"] != r.JSON["download_url"] || !strings.HasSuffix(r.JSON["fileName"].(string), id+".ovpn") || len(r.JSON) != 6 {
			t.Fatalf("generate answered %s", r.Raw)
		}
		exp, err := time.Parse(time.RFC3339, r.JSON["expires_at"].(string))
		if err != nil || exp.Before(before.Add(23*time.Hour)) || exp.After(time.Now().Add(25*time.Hour)) {
			t.Fatalf("expires_at %v (%v), want about 24 h from now", r.JSON["expires_at"], err)
		}
		f.audited(t, "config.generate", "vpn-config:"+id)

		d := f.do(t, f.user, "GET", r.JSON["download_url"].(string), nil)
		if d.Status != http.StatusOK {
			t.Fatalf("download: %d %s", d.Status, d.Raw)
		}
		for h, v := range map[string]string{
			"Content-Type":        "application/x-openvpn-profile",
			"Content-Disposition": `attachment; filename="office-east-` + id + `.ovpn"`,
			"Cache-Control":       "no-store",
		} {
			if got := d.Header.Get(h); got != v {
				t.Errorf("%s = %q, want %q", h, got, v)
			}
		}
		profile := string(d.Raw)
		for _, line := range []string{"client", "dev tun", "proto tcp-client", "remote vpn.example.com 1195", "nobind", "remote-cert-tls server"} {
			if !strings.Contains(profile, "\n"+line+"\n") {
				t.Errorf("profile lacks %q:\n%s", line, profile)
			}
		}
		// The inline material: the served CA, a client certificate for
		// alice signed by it, its key, and the gateway's tls-crypt key as
		// provisioning hands it to the gateway.
		if ca := f.do(t, "", "GET", "/api/v1/pki/ca.pem", nil); strings.TrimSpace(string(ca.Raw)) != block(t, profile, "ca") {
			t.Error("<ca> is not the served CA certificate")
		}
		pb, _ := pem.Decode([]byte(block(t, profile, "cert")))
		cert, err := x509.ParseCertificate(pb.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if cert.Subject.CommonName != "alice" || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth || !cert.NotAfter.Equal(exp) {
			t.Errorf("client certificate: CN %q EKU %v not after %v (expires_at %v)", cert.Subject.CommonName, cert.ExtKeyUsage, cert.NotAfter, exp)
		}
		kb, _ := pem.Decode([]byte(block(t, profile, "key")))
		key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if !key.(*ecdsa.PrivateKey).PublicKey.Equal(cert.PublicKey) {
			t.Error("<key> does not belong to <cert>")
		}
		prov := f.agent(t, f.token, "provision", map[string]any{})
		if prov.Status != http.StatusOK || strings.TrimSpace(prov.JSON["tls_crypt_key"].(string)) != block(t, profile, "tls-crypt") {
			t.Errorf("<tls-crypt> is not the gateway's key (provision %d)", prov.Status)
		}
		f.audited(t, "config.download", "vpn-config:"+id)

		// The key is stored only sealed.
		var sealed []byte
		if err := e.DB.SQL().QueryRow("SELECT key_sealed FROM vpn_configs WHERE id = $1", id).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if len(sealed) == 0 || strings.Contains(string(sealed), "PRIVATE KEY") {
			t.Errorf("stored key is %d bytes and readable", len(sealed))
		}
	})
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newCfgFixture(t, e)
		id := f.generate(t, f.user)
		bob := login(t, e, "bob")
		certs, configs := f.count(t, "pki_certificates"), f.count(t, "vpn_configs")
		for _, c := range []struct {
			name, token string
			body        any
			status      int
			code        string
		}{
			{"400/no gateway", f.user, map[string]any{"protocol": "openvpn"}, 400, "invalid"},
			{"400/bad protocol", f.user, map[string]any{"gateway_id": f.gw, "protocol": "ipsec"}, 400, "invalid"},
			{"400/wrong vpn type", f.user, map[string]any{"gateway_id": f.gw, "protocol": "wireguard"}, 400, "invalid"},
			{"400/malformed json", f.user, "{", 400, "invalid"},
			{"404/unknown gateway", f.user, map[string]any{"gateway_id": "gw-0000000000000000"}, 404, "not_found"},
			{"404/no access rule", bob, map[string]any{"gateway_id": f.gw}, 404, "not_found"},
			{"404/other group", f.foreign, map[string]any{"gateway_id": f.gw}, 404, "not_found"},
			{"401/no credential", "", map[string]any{"gateway_id": f.gw}, 401, "unauthorized"},
		} {
			t.Run(c.name, func(t *testing.T) {
				wantError(t, f.do(t, c.token, "POST", "/api/v1/configs/generate", c.body), c.status, c.code)
			})
		}
		// Nothing was half-written by the refused requests.
		if c, n := f.count(t, "pki_certificates"), f.count(t, "vpn_configs"); c != certs || n != configs {
			t.Errorf("refused requests left %d certificates and %d configs behind", c-certs, n-configs)
		}

		dl := "/api/v1/configs/download/" + id
		wantError(t, f.do(t, bob, "GET", dl, nil), 404, "not_found")       // another user's config
		wantError(t, f.do(t, f.admin, "GET", dl, nil), 404, "not_found")   // even the group's admin
		wantError(t, f.do(t, f.foreign, "GET", dl, nil), 404, "not_found") // another group
		wantError(t, f.do(t, f.user, "GET", "/api/v1/configs/download/cfg-0000000000000000", nil), 404, "not_found")

		// An expired link.
		if _, err := e.DB.SQL().Exec("UPDATE vpn_configs SET expires_at = $1 WHERE id = $2", time.Now().Add(-time.Second).UTC(), id); err != nil {
			t.Fatal(err)
		}
		wantError(t, f.do(t, f.user, "GET", dl, nil), 404, "config_expired")
	})
}

func TestConfigAdminListAndRevoke(t *testing.T) {
	t.Parallel()
	pkitest.OpenSSL(t)
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newCfgFixture(t, e)
		id := f.generate(t, f.user)
		profile := string(f.do(t, f.user, "GET", "/api/v1/configs/download/"+id, nil).Raw)

		list := f.do(t, f.admin, "GET", "/api/v1/admin/configs?per_page=10", nil)
		data, _ := list.JSON["data"].([]any)
		if list.Status != http.StatusOK || len(data) != 1 || fmt.Sprint(list.JSON["meta"]) != "map[page:1 per_page:10 total:1]" {
			t.Fatalf("admin list: %d %s", list.Status, list.Raw)
		}
		c := data[0].(map[string]any)
		if c["id"] != id || c["user_id"] != float64(f.alice.ID) || c["gateway_id"] != f.gw || c["status"] != "active" ||
			c["downloads"] != float64(1) || c["protocol"] != "openvpn" {
			t.Errorf("listed config %v", c)
		}
		if strings.Contains(string(list.Raw), "PRIVATE KEY") || strings.Contains(string(list.Raw), "key") {
			t.Errorf("listing mentions keys: %s", list.Raw)
		}
		wantError(t, f.do(t, f.user, "GET", "/api/v1/admin/configs", nil), 403, "forbidden")
		if r := f.do(t, f.foreign, "GET", "/api/v1/admin/configs", nil); r.Status != 200 || fmt.Sprint(r.JSON["data"]) != "[]" {
			t.Errorf("another group's admin sees %d %s", r.Status, r.Raw)
		}
		wantError(t, f.do(t, f.admin, "GET", "/api/v1/admin/configs?user_id=x", nil), 400, "invalid")

		// openssl accepts the downloaded certificate until the config is
		// revoked.
		dir := t.TempDir()
		ca := pkitest.WriteFile(t, dir, "ca.pem", []byte(block(t, profile, "ca")+"\n"))
		cert := pkitest.WriteFile(t, dir, "cert.pem", []byte(block(t, profile, "cert")+"\n"))
		verify := func() pkitest.Result {
			crl := pkitest.WriteFile(t, dir, "crl.pem", f.do(t, "", "GET", "/api/v1/pki/crl.pem", nil).Raw)
			return pkitest.Run(t, dir, "verify", "-CAfile", ca, "-crl_check", "-CRLfile", crl, "-purpose", "sslclient", cert)
		}
		if r := verify(); !r.OK {
			t.Fatalf("openssl verify of the config's certificate:\n%s", r.Output())
		}

		revoke := "/api/v1/admin/configs/" + id + "/revoke"
		wantError(t, f.do(t, f.user, "POST", revoke, nil), 403, "forbidden")
		wantError(t, f.do(t, f.foreign, "POST", revoke, nil), 404, "not_found")
		wantError(t, f.do(t, f.admin, "POST", revoke, map[string]any{"reason": "bogus"}), 400, "invalid")
		wantError(t, f.do(t, f.admin, "POST", "/api/v1/admin/configs/cfg-0000000000000000/revoke", nil), 404, "not_found")

		d := want(t, f.do(t, f.admin, "POST", revoke, map[string]any{"reason": "keyCompromise"}), http.StatusOK)
		if d["status"] != "revoked" || d["revoked_at"] == nil {
			t.Fatalf("revoked config %v", d)
		}
		f.audited(t, "config.revoke", "vpn-config:"+id)
		serial := d["serial"].(string)
		chk := f.do(t, "", "GET", "/api/v1/pki/check/"+serial, nil)
		if chk.JSON["revoked"] != true || chk.JSON["reason"] != "keyCompromise" {
			t.Errorf("certificate after config revocation: %s", chk.Raw)
		}
		if r := verify(); r.OK || !strings.Contains(r.Output(), "certificate revoked") {
			t.Fatalf("openssl verify after revocation, want \"certificate revoked\":\n%s", r.Output())
		}
		wantError(t, f.do(t, f.user, "GET", "/api/v1/configs/download/"+id, nil), 404, "config_revoked")
		var sealed []byte
		if err := e.DB.SQL().QueryRow("SELECT key_sealed FROM vpn_configs WHERE id = $1", id).Scan(&sealed); err != nil || sealed != nil {
			t.Errorf("sealed key after revocation: %d bytes (%v)", len(sealed), err)
		}
		// Revoking again succeeds and changes nothing.
		again := want(t, f.do(t, f.admin, "POST", revoke, nil), http.StatusOK)
		if again["revoked_at"] != d["revoked_at"] {
			t.Errorf("second revocation moved revoked_at from %v to %v", d["revoked_at"], again["revoked_at"])
		}
	})
}

func TestConfigGenerationRateLimit(t *testing.T) {
	t.Parallel()
	e := servertest.Start(t, "sqlite")
	f := newCfgFixture(t, e)
	body := map[string]any{"gateway_id": f.gw}
	for i := 0; i < 30; i++ {
		if r := f.do(t, f.user, "POST", "/api/v1/configs/generate", body); r.Status != http.StatusOK {
			t.Fatalf("generation %d: %d %s", i+1, r.Status, r.Raw)
		}
	}
	r := f.do(t, f.user, "POST", "/api/v1/configs/generate", body)
	wantError(t, r, http.StatusTooManyRequests, "rate_limited")
	if r.Header.Get("Retry-After") == "" || r.Header.Get("X-RateLimit-Limit") != "30" {
		t.Errorf("429 headers: %v", r.Header)
	}
	// The budget is per user: the admin (with its own rule) is not limited.
	f.rule(t, map[string]any{"network_id": f.network(t, "10.30.0.0/16", f.gw), "user_ids": []int64{f.acmeAdmin.ID}})
	if r := f.do(t, f.admin, "POST", "/api/v1/configs/generate", body); r.Status != http.StatusOK {
		t.Errorf("another user's generation: %d %s", r.Status, r.Raw)
	}
}
