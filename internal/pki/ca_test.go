package pki_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"netkeep/internal/pki"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// TestCACreatedOnce starts several replicas at once, each with its own
// connection pool on one database: exactly one CA is created and all load it.
func TestCACreatedOnce(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			_, dsn := storetest.DSN(t, kind)
			ctx := context.Background()
			keys := newKeys(t)
			const replicas = 5
			dbs := make([]*store.DB, replicas)
			for i := range dbs {
				db, err := store.Open(ctx, kind, dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				if _, err := db.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				dbs[i] = db
			}
			services := make([]*pki.Service, replicas)
			var wg sync.WaitGroup
			errs := make(chan error, replicas)
			for i := range services {
				services[i] = pki.NewService(store.For[pki.Tx](dbs[i]), keys, nil, pki.DefaultConfig(), pki.WithLogger(quiet))
				t.Cleanup(services[i].Close)
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- services[i].Start(ctx)
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("Start: %v", err)
				}
			}
			first := mustCA(t, services[0])
			for i, s := range services {
				if ca := mustCA(t, s); ca.Fingerprint != first.Fingerprint || ca.ID != first.ID {
					t.Fatalf("replica %d loaded CA %s, replica 0 %s", i, ca.Fingerprint, first.Fingerprint)
				}
			}
			var n int
			if err := dbs[0].SQL().QueryRow(`SELECT count(*) FROM pki_authorities`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("authorities = %d, %v; want 1", n, err)
			}
			if err := dbs[0].SQL().QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'pki.ca.create'`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("pki.ca.create audit entries = %d, %v; want 1", n, err)
			}

			// A restart loads the same CA, and its CRL number does not go back.
			l0, _ := mustCRL(t, services[0])
			again := startService(t, dbs[0], keys, nil)
			if ca := mustCA(t, again); ca.Fingerprint != first.Fingerprint {
				t.Fatalf("after restart: CA %s, want %s", ca.Fingerprint, first.Fingerprint)
			}
			if l, _ := mustCRL(t, again); l.Number < l0.Number {
				t.Fatalf("CRL number went back from %d to %d", l0.Number, l.Number)
			}
		})
	}
}

func TestGeneratedCA(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := startService(t, db, newKeys(t), nil)
		ca := mustCA(t, s).Certificate
		pub, ok := ca.PublicKey.(*ecdsa.PublicKey)
		switch {
		case !ok || pub.Curve != elliptic.P256():
			t.Fatalf("CA key is %T, want ECDSA P-256", ca.PublicKey)
		case !ca.IsCA || !ca.BasicConstraintsValid:
			t.Fatal("CA certificate lacks CA:TRUE")
		case ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign:
			t.Fatalf("key usage = %b", ca.KeyUsage)
		case ca.NotAfter.Sub(ca.NotBefore) < 10*365*24*time.Hour:
			t.Fatalf("validity %v, want 10 years", ca.NotAfter.Sub(ca.NotBefore))
		case ca.SerialNumber.Sign() <= 0:
			t.Fatal("serial is not positive")
		}
		if err := ca.CheckSignatureFrom(ca); err != nil {
			t.Fatalf("not self-signed: %v", err)
		}
	})
}

// TestCAKeySealed: the CA private key appears nowhere in the stored row (nor,
// on SQLite, in the database files) in any encoding; it opens only under the
// same server secret.
func TestCAKeySealed(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		keys := newKeys(t)
		s := startService(t, db, keys, nil)
		issueClient(t, s, 1, 1)
		key := caKey(t, s)
		pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		sec1, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		scalar, err := key.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		secrets := map[string][]byte{"PKCS#8 DER": pkcs8, "SEC 1 DER": sec1, "private scalar": scalar,
			"PEM header": []byte("PRIVATE KEY")}

		rows, err := db.SQL().Query(`SELECT cert_der, key_sealed, fingerprint, origin FROM pki_authorities`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			cols := make([][]byte, 4)
			if err := rows.Scan(&cols[0], &cols[1], &cols[2], &cols[3]); err != nil {
				t.Fatal(err)
			}
			if len(cols[1]) < 32 {
				t.Fatalf("sealed key has %d bytes", len(cols[1]))
			}
			for _, col := range cols {
				for what, b := range secrets {
					if bytes.Contains(col, b) {
						t.Fatalf("the stored row contains the CA key's %s", what)
					}
				}
			}
		}
		if db.Kind == "sqlite" {
			// The database file and its WAL hold every byte written.
			var path string
			if err := db.SQL().QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-wal"} {
				raw, err := os.ReadFile(p)
				if err != nil {
					t.Fatalf("reading %s: %v", filepath.Base(p), err)
				}
				for what, b := range secrets {
					if what != "PEM header" && bytes.Contains(raw, b) {
						t.Fatalf("%s contains the CA key's %s", filepath.Base(p), what)
					}
				}
			}
		}

		// Another server secret cannot open the key: start fails loudly.
		other := pki.NewService(store.For[pki.Tx](db), newKeys(t), nil, pki.DefaultConfig(), pki.WithLogger(quiet))
		defer other.Close()
		if err := other.Start(context.Background()); err == nil {
			t.Fatal("a service with another secret loaded the CA")
		}
	})
}

// caKey returns the loaded CA's private key (through export_test.go).
func caKey(tb testing.TB, s *pki.Service) *ecdsa.PrivateKey {
	tb.Helper()
	k, ok := pki.SignerOf(s).(*ecdsa.PrivateKey)
	if !ok {
		tb.Fatalf("CA key is %T", pki.SignerOf(s))
	}
	return k
}
