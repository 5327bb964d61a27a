package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"netkeep/internal/config"
	"netkeep/internal/pki"
	"netkeep/internal/pki/pkitest"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// TestPKIImport imports an openssl-made CA with `netkeep pki import`; the
// server then serves it and a CRL it signed. A CA that issued certificates
// is replaced only with --force, which revokes them.
func TestPKIImport(t *testing.T) {
	t.Parallel()
	pkitest.OpenSSL(t)
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			dir, dataDir := t.TempDir(), t.TempDir()
			db := newTestDB(t, kind)
			env := cleanEnv("NETKEEP_SECRET_KEY=pki-import-test-secret-0123456789abcdef")
			first := filepath.Join(dir, "first")
			second := filepath.Join(dir, "second")
			for _, d := range []string{first, second} {
				if err := os.Mkdir(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			cert1, key1 := pkitest.NewCA(t, first, "/O=Acme/CN=Acme VPN CA")
			cert2, key2 := pkitest.NewCA(t, second, "/O=Acme/CN=Acme VPN CA 2")
			importCA := func(args ...string) result {
				t.Helper()
				return runCLI(t, "", env, append(append([]string{"pki", "import"}, args...), db.flags(dataDir)...)...)
			}

			r := importCA("--cert", cert1, "--key", key1)
			if r.code != 0 || !strings.Contains(r.stdout, "imported CA") || !strings.Contains(r.stdout, fingerprint(t, cert1)) {
				t.Fatalf("import: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
			}
			assertNoStackTrace(t, r.stderr)

			srv := startServe(t, env, db.flags(dataDir)...)
			waitReady(t, httpClient, srv.url)
			get := func(path string) []byte {
				t.Helper()
				res, body := do(t, httpClient, "GET", srv.url+path, nil)
				if res.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
				}
				return body
			}
			if !sameCert(t, get("/api/v1/pki/ca.pem"), cert1) {
				t.Fatal("the server does not serve the imported CA")
			}
			crl := pkitest.WriteFile(t, dir, "crl.pem", get("/api/v1/pki/crl.pem"))
			if out := pkitest.Run(t, dir, "crl", "-in", crl, "-CAfile", cert1, "-noout"); !out.OK || !strings.Contains(out.Output(), "verify OK") {
				t.Fatalf("the served CRL is not signed by the imported CA:\n%s", out.Output())
			}

			// A certificate issued by the imported CA blocks a plain import.
			st := db.open(t, dataDir)
			recordIssued(t, st)
			r = importCA("--cert", cert2, "--key", key2)
			if r.code == 0 {
				t.Fatalf("import over issued certificates succeeded: %s", r.stdout)
			}
			assertOneErrorLine(t, r.stderr, "--force")
			r = importCA("--cert", cert2, "--key", key2, "--force")
			if r.code != 0 || !strings.Contains(r.stdout, "revoked 1 certificates") || !strings.Contains(r.stdout, fingerprint(t, cert1)) {
				t.Fatalf("forced import: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
			}
			if kind == config.Postgres {
				// Replicas hear of it at once; on SQLite within a sync interval.
				if !poll(10*time.Second, func() bool {
					_, body := do(t, httpClient, "GET", srv.url+"/api/v1/pki/ca.pem", nil)
					return sameCert(t, body, cert2)
				}) {
					t.Fatal("the running server did not switch to the new CA")
				}
			}
			if code := srv.stop(t, syscall.SIGTERM); code != 0 {
				t.Fatalf("serve exited %d:\n%s", code, srv.log)
			}
			// After a restart the server uses the new CA.
			srv = startServe(t, env, db.flags(dataDir)...)
			waitReady(t, httpClient, srv.url)
			if !sameCert(t, get("/api/v1/pki/ca.pem"), cert2) {
				t.Fatal("after a restart the server does not serve the new CA")
			}
			r = importCA("--cert", cert2, "--key", key2)
			if r.code != 0 || !strings.Contains(r.stdout, "already the active CA") {
				t.Fatalf("re-import: exit %d, stdout %q", r.code, r.stdout)
			}
		})
	}
}

func TestPKIImportErrors(t *testing.T) {
	t.Parallel()
	pkitest.OpenSSL(t)
	dir := t.TempDir()
	cert, key := pkitest.NewCA(t, dir, "/CN=Good CA")
	other := filepath.Join(dir, "other")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	otherCert, _ := pkitest.NewCA(t, other, "/CN=Other CA")
	leafCert, leafKey := filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "leaf-key.pem")
	pkitest.MustRun(t, dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
		"-keyout", leafKey, "-out", leafCert, "-days", "30", "-subj", "/CN=leaf", "-addext", "basicConstraints=critical,CA:FALSE")
	encKey := filepath.Join(dir, "enc-key.pem")
	pkitest.MustRun(t, dir, "pkey", "-in", key, "-aes256", "-passout", "pass:secret", "-out", encKey)

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no key", []string{"--cert", cert}, "--cert and --key are required"},
		{"no subcommand", nil, "usage: netkeep pki import"},
		{"missing file", []string{"--cert", filepath.Join(dir, "nope.pem"), "--key", key}, "no such file"},
		{"not a CA", []string{"--cert", leafCert, "--key", leafKey}, "not a CA"},
		{"key of another CA", []string{"--cert", otherCert, "--key", key}, "does not belong"},
		{"encrypted key", []string{"--cert", cert, "--key", encKey}, "encrypted"},
		{"key given as certificate", []string{"--cert", key, "--key", key}, "CERTIFICATE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"pki"}
			if tc.args != nil {
				args = append(append(args, "import"), tc.args...)
				args = append(args, "--data-dir", t.TempDir())
			}
			r := runCLI(t, "", nil, args...)
			if r.code == 0 {
				t.Fatalf("exit 0, stdout %q", r.stdout)
			}
			assertOneErrorLine(t, r.stderr, tc.want)
		})
	}
}

// fingerprint is the lowercase hex SHA-256 of a PEM certificate file.
func fingerprint(tb testing.TB, certFile string) string {
	tb.Helper()
	b, err := os.ReadFile(certFile)
	if err != nil {
		tb.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	sum := sha256.Sum256(blk.Bytes)
	return hex.EncodeToString(sum[:])
}

// sameCert reports whether served is the certificate in certFile.
func sameCert(tb testing.TB, served []byte, certFile string) bool {
	tb.Helper()
	blk, _ := pem.Decode(served)
	if blk == nil {
		return false
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return false
	}
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:]) == fingerprint(tb, certFile)
}

// recordIssued records a client certificate of the active CA, as issuance
// would (the test needs only its existence).
func recordIssued(tb testing.TB, db *store.DB) {
	tb.Helper()
	ctx := context.Background()
	a, err := db.Read().ActiveAuthority(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	c := &pki.Certificate{Serial: "0A0B0C", AuthorityID: a.ID, Kind: pki.KindClient, CommonName: "alice", UserID: 1, GroupID: 1,
		NotBefore: now, NotAfter: now.Add(24 * time.Hour), DER: []byte{0x30}, CreatedAt: now}
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.InsertCertificate(ctx, c) }); err != nil {
		tb.Fatal(err)
	}
}
