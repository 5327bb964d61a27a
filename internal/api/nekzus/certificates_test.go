package nekzus_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"netkeep/internal/api/apitest"
	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store/storetest"
	"netkeep/internal/testpeer"
)

// sClient is openssl s_client's view of the HTTPS listener for server
// name sni: the certificate it was sent (nil when the handshake failed)
// and whether it verified against caFile for that name.
func sClient(tb testing.TB, openssl, addr, sni, caFile string) (leaf *x509.Certificate, verified bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, openssl, "s_client", "-connect", addr, "-servername", sni,
		"-CAfile", caFile, "-verify_hostname", sni, "-showcerts")
	cmd.Stdin = strings.NewReader("")
	out, _ := cmd.CombinedOutput() // a failed handshake exits non-zero: told by the missing certificate
	i := bytes.Index(out, []byte("-----BEGIN CERTIFICATE"))
	if i < 0 {
		return nil, false
	}
	block, _ := pem.Decode(out[i:])
	if block == nil {
		tb.Fatalf("s_client printed no certificate: %s", out)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		tb.Fatalf("s_client sent %v: %s", err, out)
	}
	return c, bytes.Contains(out, []byte("Verify return code: 0 (ok)"))
}

func sha256Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return "SHA256:" + hex.EncodeToString(sum[:])
}

// The certificates API end to end: a SUPER_ADMIN generates a certificate
// from netkeep's CA and openssl s_client sees it on the HTTPS listener at
// once, verified against the CA; a second generate replaces it without a
// restart; another domain is served by SNI; deleting falls back to the
// newest remaining certificate, then to none. HTTP keeps working, the key
// is sealed at rest, and refusals change nothing.
func TestCertificatesAPI(t *testing.T) {
	t.Parallel()
	openssl := testpeer.Command(t, "openssl", "openssl")
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			e := servertest.StartWith(t, kind, func(c *config.Config) { c.TLSListen = "127.0.0.1:0" })
			testCertificates(t, e, openssl)
		})
	}
}

func testCertificates(t *testing.T, e *servertest.Env, openssl string) {
	e.CreateUser(t, "root", "password1", identity.SuperAdmin, "default")
	e.CreateUser(t, "admin", "password1", identity.GroupAdmin, "acme")
	root, _ := e.Login(t, "root", "password1")
	admin, _ := e.Login(t, "admin", "password1")
	as := servertest.Bearer(root)

	ca, err := e.Server.PKI.CA()
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if leaf, _ := sClient(t, openssl, e.HTTPSAddr, "localhost", caFile); leaf != nil {
		t.Fatalf("a certificate is served before any was generated: %s", leaf.Subject)
	}

	generate := func(domains ...string) map[string]any {
		t.Helper()
		r := e.Do(t, "POST", "/api/v1/certificates/generate", map[string]any{"domains": domains, "provider": "self-signed"}, as...)
		if r.Status != 200 || r.JSON["success"] != true || r.JSON["tls_upgraded"] != true {
			t.Fatalf("generate %v: %d %s", domains, r.Status, r.Raw)
		}
		apitest.AssertShape(t, r.Raw, "testdata/seed/certificates_generate.json")
		return r.JSON["certificate"].(map[string]any)
	}
	first := generate("localhost", "127.0.0.1", "NetKeep.test.")
	fp := regexp.MustCompile(`^SHA256:[0-9a-f]{64}$`)
	if first["domain"] != "localhost" || first["issuer"] != ca.Certificate.Subject.CommonName || !fp.MatchString(first["fingerprint"].(string)) ||
		strings.Join(servertest.Strings(first["sans"]), ",") != "localhost,127.0.0.1,netkeep.test" {
		t.Fatalf("generated: %v", first)
	}
	leaf, ok := sClient(t, openssl, e.HTTPSAddr, "localhost", caFile)
	if leaf == nil || !ok || sha256Fingerprint(leaf) != first["fingerprint"] {
		t.Fatalf("s_client after generate: %v verified=%v, want %s", leaf != nil, ok, first["fingerprint"])
	}
	if len(leaf.IPAddresses) != 1 || !leaf.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) || strings.Join(leaf.DNSNames, ",") != "localhost,netkeep.test" {
		t.Fatalf("SANs served: %v %v", leaf.DNSNames, leaf.IPAddresses)
	}

	// HTTPS answers the API with the CA trusted; HTTP keeps working.
	pool := x509.NewCertPool()
	pool.AddCert(ca.Certificate)
	https := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfigFor(pool)}}
	_, port, _ := net.SplitHostPort(e.HTTPSAddr)
	res, err := https.Get("https://localhost:" + port + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("https: %v %v", res, err)
	}
	res.Body.Close()
	if r := e.Do(t, "GET", "/healthz", nil); r.Status != 200 {
		t.Fatalf("http: %d", r.Status)
	}

	// A second generate replaces the domain's certificate, served at once.
	second := generate("localhost", "127.0.0.1")
	if second["fingerprint"] == first["fingerprint"] {
		t.Fatal("the second certificate is the first")
	}
	if leaf, ok := sClient(t, openssl, e.HTTPSAddr, "localhost", caFile); leaf == nil || !ok || sha256Fingerprint(leaf) != second["fingerprint"] {
		t.Fatalf("s_client after the second generate: got %v", leaf != nil)
	}
	other := generate("other.test")
	if leaf, ok := sClient(t, openssl, e.HTTPSAddr, "other.test", caFile); leaf == nil || !ok || sha256Fingerprint(leaf) != other["fingerprint"] {
		t.Fatal("other.test is not served its own certificate")
	}
	if leaf, _ := sClient(t, openssl, e.HTTPSAddr, "localhost", caFile); leaf == nil || sha256Fingerprint(leaf) != second["fingerprint"] {
		t.Fatal("localhost lost its certificate to a newer one of another domain")
	}

	r := e.Do(t, "POST", "/api/v1/backups", map[string]any{"description": "with certificates"}, as...)
	if r.Status != http.StatusCreated {
		t.Fatalf("backup: %d %s", r.Status, r.Raw)
	}
	backupID := r.JSON["id"].(string)
	r = e.Do(t, "GET", "/api/v1/certificates", nil, as...)
	if r.Status != 200 || r.JSON["count"] != float64(2) {
		t.Fatalf("list: %d %s", r.Status, r.Raw)
	}
	apitest.AssertShape(t, r.Raw, "testdata/seed/certificates_list.json")
	for _, c := range r.JSON["certificates"].([]any) {
		if d := c.(map[string]any)["expires_in_days"]; d != float64(364) && d != float64(365) {
			t.Fatalf("expires_in_days %v: %s", d, r.Raw)
		}
	}
	r = e.Do(t, "GET", "/api/v1/certificates/LOCALHOST", nil, as...)
	if r.Status != 200 || r.JSON["fingerprint"] != second["fingerprint"] || r.JSON["not_after"] == nil {
		t.Fatalf("get: %d %s", r.Status, r.Raw)
	}
	r = e.Do(t, "GET", "/api/v1/certificates/suggest", nil, as...)
	apitest.AssertShape(t, r.Raw, "testdata/seed/certificates_suggest.json")
	host, _ := os.Hostname()
	if r.Status != 200 || !strings.Contains(string(r.Raw), `"localhost"`) || !strings.Contains(string(r.Raw), `"`+strings.ToLower(host)+`"`) ||
		r.JSON["count"] != float64(len(r.JSON["suggestions"].([]any))) {
		t.Fatalf("suggest: %d %s", r.Status, r.Raw)
	}

	// The private key is sealed at rest.
	stored, err := e.DB.Read().TLSCertificate(context.Background(), "localhost")
	if err != nil || len(stored.KeySealed) == 0 || bytes.Contains(stored.KeySealed, []byte("PRIVATE KEY")) {
		t.Fatalf("stored key: %v", err)
	}

	refused := []struct {
		name, method, path string
		hdr                []string
		body               any
		status             int
		code               string
	}{
		{"group admin generates", "POST", "/api/v1/certificates/generate", servertest.Bearer(admin), map[string]any{"domains": []string{"x.test"}}, 403, "FORBIDDEN"},
		{"group admin lists", "GET", "/api/v1/certificates", servertest.Bearer(admin), nil, 403, "FORBIDDEN"},
		{"group admin deletes", "DELETE", "/api/v1/certificates/localhost", servertest.Bearer(admin), nil, 403, "FORBIDDEN"},
		{"no domains", "POST", "/api/v1/certificates/generate", as, map[string]any{"domains": []string{}}, 400, "BAD_REQUEST"},
		{"bad domain", "POST", "/api/v1/certificates/generate", as, map[string]any{"domains": []string{"ok.test", "bad name"}}, 400, "BAD_REQUEST"},
		{"acme", "POST", "/api/v1/certificates/generate", as, map[string]any{"domains": []string{"x.test"}, "provider": "letsencrypt"}, 400, "BAD_REQUEST"},
		{"not json", "POST", "/api/v1/certificates/generate", as, "{", 400, "BAD_REQUEST"},
		{"unknown domain", "GET", "/api/v1/certificates/nowhere.test", as, nil, 404, "CERTIFICATE_NOT_FOUND"},
		{"malformed domain", "DELETE", "/api/v1/certificates/..%2Fx", as, nil, 404, "CERTIFICATE_NOT_FOUND"},
	}
	for _, c := range refused {
		if r := e.Do(t, c.method, c.path, c.body, c.hdr...); r.Status != c.status || r.ErrorCode() != c.code {
			t.Fatalf("%s: %d %s, want %d %s", c.name, r.Status, r.Raw, c.status, c.code)
		}
	}
	if r := e.Do(t, "GET", "/api/v1/certificates", nil, as...); r.JSON["count"] != float64(2) {
		t.Fatalf("a refusal changed the certificates: %s", r.Raw)
	}

	// Deleting falls back to the newest remaining certificate, then none.
	if r := e.Do(t, "DELETE", "/api/v1/certificates/localhost", nil, as...); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	if leaf, _ := sClient(t, openssl, e.HTTPSAddr, "localhost", caFile); leaf == nil || sha256Fingerprint(leaf) != other["fingerprint"] {
		t.Fatal("after deleting localhost the listener does not fall back to other.test's certificate")
	}
	if r := e.Do(t, "GET", "/api/v1/certificates/localhost", nil, as...); r.Status != 404 {
		t.Fatalf("deleted certificate: %d", r.Status)
	}
	if r := e.Do(t, "DELETE", "/api/v1/certificates/other.test", nil, as...); r.Status != http.StatusNoContent {
		t.Fatalf("delete other: %d %s", r.Status, r.Raw)
	}
	if leaf, _ := sClient(t, openssl, e.HTTPSAddr, "localhost", caFile); leaf != nil {
		t.Fatal("a certificate is still served after every one was deleted")
	}

	// Restoring the certificates facet brings them back, served again
	// without a restart (keys still sealed under this server's secret).
	if r := e.Do(t, "POST", "/api/v1/backups/"+backupID+"/restore", map[string]any{"restoreCertificates": true}, as...); r.Status != 200 {
		t.Fatalf("restore: %d %s", r.Status, r.Raw)
	}
	servertest.Eventually(t, 10*time.Second, func() bool {
		leaf, ok := sClient(t, openssl, e.HTTPSAddr, "localhost", caFile)
		return leaf != nil && ok && sha256Fingerprint(leaf) == second["fingerprint"]
	}, "the restored certificate is served")

	r = e.Do(t, "GET", "/api/v1/audit-logs?action=tls_certificate.generate", nil, as...)
	if r.JSON["count"] != float64(3) {
		t.Fatalf("generate audit: %s", r.Raw)
	}
	r = e.Do(t, "GET", "/api/v1/audit-logs?action=tls_certificate.delete", nil, as...)
	if r.JSON["count"] != float64(2) {
		t.Fatalf("delete audit: %s", r.Raw)
	}
}

func tlsConfigFor(pool *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// A certificate generated on one replica is served by another at once:
// the change crosses replicas on the bus (PostgreSQL only: SQLite has one
// server).
func TestCertificatesAcrossReplicas(t *testing.T) {
	t.Parallel()
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skip(storetest.PostgresEnv + " not set: replicas need PostgreSQL")
	}
	a := servertest.Start(t, config.Postgres)
	b := servertest.Replica(t, a)
	r := a.Do(t, "POST", "/api/v1/certificates/generate", map[string]any{"domains": []string{"replica.test"}}, servertest.Master()...)
	if r.Status != 200 {
		t.Fatalf("generate: %d %s", r.Status, r.Raw)
	}
	want := r.JSON["certificate"].(map[string]any)["fingerprint"]
	served := func() any {
		c, err := b.Server.Certs.GetCertificate(&tls.ClientHelloInfo{ServerName: "replica.test"})
		if err != nil {
			return nil
		}
		return sha256Fingerprint(c.Leaf)
	}
	servertest.Eventually(t, 10*time.Second, func() bool { return served() == want }, "the replica serves the new certificate")
	if r := a.Do(t, "DELETE", "/api/v1/certificates/replica.test", nil, servertest.Master()...); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	servertest.Eventually(t, 10*time.Second, func() bool { return served() == nil }, "the replica stops serving the deleted certificate")
}
