package pki_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"netkeep/internal/config"
	"netkeep/internal/pki"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// BenchmarkIssue measures client certificate issuance: "mint" is key
// generation, signing and PEM encoding (no database); the per-kind runs add
// the store insert and its audit entry in one transaction.
func BenchmarkIssue(b *testing.B) {
	db := storetest.Open(b, config.SQLite)
	s := startService(b, db, newKeys(b), nil)
	b.Run("mint", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := pki.MintClient(s, "alice"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
	})
	for _, kind := range storetest.Kinds() {
		b.Run("store/"+string(kind), func(b *testing.B) {
			db := storetest.Open(b, kind)
			s := startService(b, db, newKeys(b), nil)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.IssueClient(ctx, src, pki.ClientRequest{CommonName: "alice", UserID: 1, GroupID: 1}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
		})
	}
}

// BenchmarkCRL measures CRL regeneration with many revoked serials: "sign"
// is building and signing the CRL alone; the per-kind runs are a full
// regeneration (allocate the number, read the revoked rows, sign, store).
func BenchmarkCRL(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("sign/%d", n), func(b *testing.B) {
			db := storetest.Open(b, config.SQLite)
			s := startService(b, db, newKeys(b), nil)
			entries := make([]pki.Revocation, n)
			at := time.Now().UTC().Truncate(time.Second)
			for i := range entries {
				entries[i] = pki.Revocation{Serial: pki.SerialOf(pki.NewSerial()), RevokedAt: at, Reason: pki.KeyCompromise}
			}
			b.ReportAllocs()
			var l *pki.RevocationList
			for b.Loop() {
				var err error
				if l, err = pki.SignCRL(s, 1, entries); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(l.DER)), "DER-bytes")
		})
	}
	for _, kind := range storetest.Kinds() {
		b.Run(fmt.Sprintf("regenerate/100000/%s", kind), func(b *testing.B) {
			db := storetest.Open(b, kind)
			s := startService(b, db, newKeys(b), nil)
			seedRevoked(b, db, mustCA(b, s).ID, 100_000)
			ctx := context.Background()
			b.ReportAllocs()
			var l *pki.RevocationList
			for b.Loop() {
				var err error
				if l, err = pki.Regenerate(ctx, s); err != nil {
					b.Fatal(err)
				}
			}
			if l.Entries != 100_000 {
				b.Fatalf("CRL lists %d entries", l.Entries)
			}
		})
	}
}

// seedRevoked records n revoked certificates of the authority directly,
// each with a DER as large as an issued client certificate's.
func seedRevoked(tb testing.TB, db *store.DB, authority int64, n int) {
	tb.Helper()
	ctx := context.Background()
	der := make([]byte, 450)
	now := time.Now().UTC().Truncate(time.Second)
	const batch = 10_000
	for start := 0; start < n; start += batch {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for i := start; i < min(start+batch, n); i++ {
				c := &pki.Certificate{Serial: pki.SerialOf(pki.NewSerial()), AuthorityID: authority, Kind: pki.KindClient,
					CommonName: "seed", UserID: 1, GroupID: 1, NotBefore: now, NotAfter: now.Add(24 * time.Hour),
					DER: der, RevokedAt: &now, Reason: pki.KeyCompromise, CreatedAt: now}
				if err := tx.InsertCertificate(ctx, c); err != nil {
					return err
				}
			}
			return tx.BumpRevision(ctx)
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}
