package pki_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/pki"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// testCA is a CA made outside netkeep, as PEM files.
type testCA struct {
	cert, key []byte
	parsed    *x509.Certificate
}

type caSpec struct {
	notCA     bool
	usage     x509.KeyUsage
	notBefore time.Time
	notAfter  time.Time
	rsa       bool
}

func makeCA(tb testing.TB, spec caSpec) testCA {
	tb.Helper()
	var key crypto.Signer
	var err error
	if spec.rsa {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		tb.Fatal(err)
	}
	if spec.usage == 0 {
		spec.usage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	if spec.notBefore.IsZero() {
		spec.notBefore = time.Now().Add(-time.Hour)
	}
	if spec.notAfter.IsZero() {
		spec.notAfter = time.Now().Add(24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "Imported CA", Organization: []string{"Acme"}},
		NotBefore: spec.notBefore, NotAfter: spec.notAfter, KeyUsage: spec.usage,
		BasicConstraintsValid: true, IsCA: !spec.notCA, SubjectKeyId: []byte{1, 2, 3, 4},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	parsed, _ := x509.ParseCertificate(der)
	var keyPEM []byte
	if spec.rsa {
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key.(*rsa.PrivateKey))})
	} else {
		sec1, _ := x509.MarshalECPrivateKey(key.(*ecdsa.PrivateKey))
		keyPEM = append([]byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})...)
	}
	return testCA{cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key: keyPEM, parsed: parsed}
}

func TestImportInvalid(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, "sqlite")
	s := startService(t, db, newKeys(t), nil)
	before := mustCA(t, s)
	good, other := makeCA(t, caSpec{}), makeCA(t, caSpec{})
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	legacyEncrypted := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00"}, Bytes: []byte{1}})
	tests := []struct {
		name      string
		cert, key []byte
	}{
		{"not a CA", makeCA(t, caSpec{notCA: true}).cert, nil},
		{"no cRLSign", makeCA(t, caSpec{usage: x509.KeyUsageCertSign}).cert, nil},
		{"no keyCertSign", makeCA(t, caSpec{usage: x509.KeyUsageCRLSign}).cert, nil},
		{"expired", makeCA(t, caSpec{notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-time.Hour)}).cert, nil},
		{"not yet valid", makeCA(t, caSpec{notBefore: time.Now().Add(time.Hour)}).cert, nil},
		{"key of another CA", good.cert, other.key},
		{"encrypted PKCS#8 key", good.cert, encrypted},
		{"encrypted legacy key", good.cert, legacyEncrypted},
		{"no key block", good.cert, []byte("not a key")},
		{"no certificate block", []byte("-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n"), good.key},
		{"two certificates", append(append([]byte{}, good.cert...), other.cert...), good.key},
		{"garbage certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x00}}), good.key},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.key
			if key == nil {
				key = good.key // the certificate is what fails
			}
			if _, err := s.Import(context.Background(), src, tc.cert, key, true); !fault.Is(err, fault.Invalid) {
				t.Fatalf("err = %v, want invalid", err)
			}
			if ca := mustCA(t, s); ca.Fingerprint != before.Fingerprint {
				t.Fatal("a refused import changed the CA")
			}
		})
	}
}

func TestImport(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys := newKeys(t)
		cfg := pki.DefaultConfig()
		cfg.SyncInterval = 5 * time.Millisecond
		running := pki.NewService(store.For[pki.Tx](db), keys, nil, cfg, pki.WithLogger(quiet))
		rctx, cancel := context.WithCancel(ctx)
		defer func() { cancel(); running.Close() }()
		if err := running.Start(rctx); err != nil {
			t.Fatal(err)
		}
		generated := mustCA(t, running)
		// The CLI's service: not started, no bus.
		cli := pki.NewService(store.For[pki.Tx](db), keys, nil, pki.DefaultConfig(), pki.WithLogger(quiet))

		// No certificates yet: the generated CA is replaced without force.
		first := makeCA(t, caSpec{rsa: true})
		res, err := cli.Import(ctx, src, first.cert, first.key, false)
		if err != nil || res.Unchanged || res.Replaced != generated.Fingerprint || res.Revoked != 0 {
			t.Fatalf("import: %+v %v", res, err)
		}
		eventually(t, func() bool { ca, _ := running.CA(); return ca.Fingerprint == res.CA.Fingerprint },
			"the running service never switched to the imported CA")
		eventually(t, func() bool {
			l, _ := running.CRL()
			p, err := x509.ParseRevocationList(l.DER)
			return err == nil && p.CheckSignatureFrom(first.parsed) == nil
		}, "the running service does not serve a CRL of the imported CA")
		var n int
		if err := db.SQL().QueryRow(`SELECT count(*) FROM pki_authorities WHERE NOT active AND key_sealed IS NULL AND retired_at IS NOT NULL`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("retired authorities without key: %d, %v", n, err)
		}

		// Issued certificates chain to the imported CA.
		issued := issueClient(t, running, 5, 1)
		roots := x509.NewCertPool()
		roots.AddCert(first.parsed)
		if _, err := parsePEMCert(t, issued.CertPEM).Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Fatalf("issued certificate does not chain to the imported CA: %v", err)
		}

		// The same CA again changes nothing.
		if res, err := cli.Import(ctx, src, first.cert, first.key, false); err != nil || !res.Unchanged {
			t.Fatalf("re-import: %+v %v", res, err)
		}

		// Certificates were issued: refused without force...
		second := makeCA(t, caSpec{})
		if _, err := cli.Import(ctx, src, second.cert, second.key, false); !fault.Is(err, fault.Conflict) {
			t.Fatalf("import over issued certificates: %v", err)
		}
		// ...and with force their certificates are revoked.
		res, err = cli.Import(ctx, src, second.cert, second.key, true)
		if err != nil || res.Revoked != 1 {
			t.Fatalf("forced import: %+v %v", res, err)
		}
		c, err := running.Certificate(ctx, issued.Certificate.Serial)
		if err != nil || !c.Revoked() || c.Reason != pki.CessationOfOperation {
			t.Fatalf("old certificate after forced import: %+v %v", c, err)
		}
		eventually(t, func() bool { ca, _ := running.CA(); return ca.Fingerprint == res.CA.Fingerprint },
			"the running service never switched to the second CA")
	})
}

// TestImportBeforeFirstStart: an imported CA is the one the server uses; no
// CA is generated next to it.
func TestImportBeforeFirstStart(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys := newKeys(t)
		ext := makeCA(t, caSpec{})
		cli := pki.NewService(store.For[pki.Tx](db), keys, nil, pki.DefaultConfig(), pki.WithLogger(quiet))
		res, err := cli.Import(ctx, src, ext.cert, ext.key, false)
		if err != nil || res.Replaced != "" {
			t.Fatalf("import: %+v %v", res, err)
		}
		s := startService(t, db, keys, nil)
		if ca := mustCA(t, s); ca.Fingerprint != res.CA.Fingerprint {
			t.Fatal("the server did not load the imported CA")
		}
		var n int
		if err := db.SQL().QueryRow(`SELECT count(*) FROM pki_authorities`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d authorities, %v", n, err)
		}
	})
}
