package pki_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"os"
	"sync"
	"testing"
	"time"

	"netkeep/internal/config"
	"netkeep/internal/event"
	"netkeep/internal/pki"
	"netkeep/internal/store"
	"netkeep/internal/store/pgbus"
	"netkeep/internal/store/storetest"
)

func TestCRLContent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := startService(t, db, newKeys(t), nil)
		ca := mustCA(t, s)
		l0, p0 := mustCRL(t, s)
		if len(p0.RevokedCertificateEntries) != 0 || l0.Entries != 0 {
			t.Fatalf("a fresh CA's CRL lists %d entries", len(p0.RevokedCertificateEntries))
		}
		sn := issueClient(t, s, 1, 1).Certificate.Serial
		if _, err := s.RevokeUnchecked(ctx, src, sn, pki.KeyCompromise); err != nil {
			t.Fatal(err)
		}
		l, p := mustCRL(t, s)
		switch {
		case p.CheckSignatureFrom(ca.Certificate) != nil:
			t.Fatalf("not signed by the CA: %v", p.CheckSignatureFrom(ca.Certificate))
		case !bytes.Equal(p.RawIssuer, ca.Certificate.RawSubject):
			t.Fatal("issuer is not the CA")
		case !bytes.Equal(p.AuthorityKeyId, ca.Certificate.SubjectKeyId):
			t.Fatal("authority key id is not the CA's")
		case p.Number.Int64() != l.Number || l.Number <= l0.Number:
			t.Fatalf("number %v (cached %d, before %d)", p.Number, l.Number, l0.Number)
		case p.NextUpdate.Sub(p.ThisUpdate) != 24*time.Hour+time.Minute:
			t.Fatalf("NextUpdate - ThisUpdate = %v", p.NextUpdate.Sub(p.ThisUpdate))
		case !p.ThisUpdate.Equal(l.ThisUpdate) || !p.NextUpdate.Equal(l.NextUpdate) || l.Entries != 1:
			t.Fatalf("cached metadata %+v", l)
		}
		blk, rest := pem.Decode(l.PEM)
		if blk == nil || blk.Type != "X509 CRL" || !bytes.Equal(blk.Bytes, l.DER) || len(bytes.TrimSpace(rest)) != 0 {
			t.Fatal("PEM is not the DER in an \"X509 CRL\" block")
		}
		if ok, code := listed(p, sn); !ok || code != 1 {
			t.Fatalf("entry: %v reason %d", ok, code)
		}
		// Serving is a pointer load: the same list until something changes.
		if again, _ := s.CRL(); again != l {
			t.Fatal("CRL() built a new list")
		}
	})
}

// bus returns an event bus for one replica: for PostgreSQL a LISTEN/NOTIFY
// bus on channel, otherwise the shared local bus.
func replicaBus(tb testing.TB, kind config.DatabaseKind, local event.Bus, channel string) event.Bus {
	tb.Helper()
	if kind != config.Postgres {
		return local
	}
	b, err := pgbus.New(context.Background(), os.Getenv(storetest.PostgresEnv), pgbus.WithChannel(channel))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}

// TestCRLAcrossReplicas: revocations on either replica, also concurrent
// ones, end with both serving the same CRL bytes that list all of them, and
// CRL numbers never repeat.
func TestCRLAcrossReplicas(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			_, dsn := storetest.DSN(t, kind)
			local := event.NewLocal()
			defer local.Close()
			channel := "t_" + randomHex(t)
			keys := newKeys(t)
			var svc [2]*pki.Service
			for i := range svc {
				db, err := store.Open(ctx, kind, dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				if _, err := db.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				svc[i] = startService(t, db, keys, replicaBus(t, kind, local, channel))
			}
			a, b := svc[0], svc[1]

			sn := issueClient(t, a, 1, 1).Certificate.Serial
			if _, err := a.RevokeUnchecked(ctx, src, sn, pki.Superseded); err != nil {
				t.Fatal(err)
			}
			la, _ := mustCRL(t, a)
			eventually(t, func() bool { l, _ := b.CRL(); return l.Number >= la.Number }, "replica B never loaded A's CRL")
			lb, pb := mustCRL(t, b)
			if ok, _ := listed(pb, sn); !ok || !bytes.Equal(lb.DER, la.DER) {
				t.Fatalf("B serves CRL %d listing %s: %v; same bytes as A: %v", lb.Number, sn, ok, bytes.Equal(lb.DER, la.DER))
			}

			const n = 12
			serials := make([]pki.Serial, n)
			for i := range serials {
				serials[i] = issueClient(t, svc[i%2], int64(i+1), 1).Certificate.Serial
			}
			var wg sync.WaitGroup
			for i, sn := range serials {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := svc[i%2].RevokeUnchecked(ctx, src, sn, pki.KeyCompromise); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			all := func(s *pki.Service) bool {
				l, err := s.CRL()
				if err != nil || l.Entries != n+1 {
					return false
				}
				return true
			}
			eventually(t, func() bool { return all(a) && all(b) }, "replicas do not both serve a CRL with every revocation")
			eventually(t, func() bool {
				x, _ := a.CRL()
				y, _ := b.CRL()
				return x.Number == y.Number
			}, "replicas serve different CRL numbers")
			_, pa := mustCRL(t, a)
			for _, sn := range serials {
				if ok, _ := listed(pa, sn); !ok {
					t.Fatalf("CRL misses %s", sn)
				}
			}
		})
	}
}

// TestCRLSync: a replica regenerates before NextUpdate passes, and repairs a
// revocation whose CRL regeneration never happened (its replica died).
func TestCRLSync(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := newFakeClock()
		cfg := pki.DefaultConfig()
		cfg.SyncInterval = 5 * time.Millisecond
		s := pki.NewService(store.For[pki.Tx](db), newKeys(t), nil, cfg, pki.WithClock(clock.Now), pki.WithLogger(quiet))
		sctx, cancel := context.WithCancel(ctx)
		defer func() { cancel(); s.Close() }()
		if err := s.Start(sctx); err != nil {
			t.Fatal(err)
		}
		l0, _ := mustCRL(t, s)

		// Half the validity passes: a new CRL whose NextUpdate is later.
		clock.Advance(12*time.Hour + time.Second)
		eventually(t, func() bool { l, _ := s.CRL(); return l.Number > l0.Number }, "CRL not refreshed at half-life")
		l1, _ := mustCRL(t, s)
		if !l1.NextUpdate.After(l0.NextUpdate) {
			t.Fatalf("NextUpdate %v after %v", l1.NextUpdate, l0.NextUpdate)
		}

		// A revocation committed without regeneration.
		short, err := s.IssueClient(ctx, src, pki.ClientRequest{CommonName: "short", UserID: 1, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		sn := short.Certificate.Serial
		err = store.For[pki.Tx](db).InTx(ctx, func(tx pki.Tx) error {
			if err := tx.RevokeCertificate(ctx, sn, clock.Now(), pki.KeyCompromise); err != nil {
				return err
			}
			return tx.BumpRevision(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, func() bool {
			l, _ := s.CRL()
			return l.Entries == 1
		}, "sync did not regenerate the CRL for a revocation")

		// An expired certificate leaves the CRL at the next regeneration.
		clock.Advance(2 * time.Hour)
		other := issueClient(t, s, 2, 1).Certificate.Serial
		if _, err := s.RevokeUnchecked(ctx, src, other, pki.Superseded); err != nil {
			t.Fatal(err)
		}
		_, p := mustCRL(t, s)
		if ok, _ := listed(p, sn); ok {
			t.Fatal("an expired certificate stayed on the CRL")
		}
		if ok, _ := listed(p, other); !ok {
			t.Fatal("the new revocation is missing")
		}
	})
}

func randomHex(tb testing.TB) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
