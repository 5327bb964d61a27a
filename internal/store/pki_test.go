package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/pki"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

func pkiAuthority(tb testing.TB, db *store.DB, fp string) *pki.Authority {
	tb.Helper()
	a := &pki.Authority{CertDER: []byte("cert " + fp), KeySealed: []byte("sealed " + fp), Fingerprint: fp,
		Origin: pki.OriginGenerated, Active: true, Issuing: true, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := db.InTx(context.Background(), func(tx *store.Tx) error { return tx.InsertAuthority(context.Background(), a) }); err != nil {
		tb.Fatal(err)
	}
	return a
}

func pkiCert(authority int64, n int, user int64, gateway string, notAfter time.Time) *pki.Certificate {
	kind := pki.KindClient
	if gateway != "" {
		kind = pki.KindServer
	}
	return &pki.Certificate{
		Serial: pki.Serial(fmt.Sprintf("%02X", n)), AuthorityID: authority, Kind: kind, CommonName: fmt.Sprint("cn ", n),
		UserID: user, GatewayID: gateway, GroupID: 3, NotBefore: notAfter.Add(-24 * time.Hour), NotAfter: notAfter,
		DER: []byte{0x30, byte(n)}, CreatedAt: notAfter.Add(-24 * time.Hour),
	}
}

func TestPKIAuthorities(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Read().ActiveAuthority(ctx); !fault.Is(err, fault.NotFound) {
			t.Fatalf("empty: %v", err)
		}
		st, err := db.Read().PKIStatus(ctx)
		if err != nil || st.AuthorityID != 0 || st.CRL != nil || st.Revision != 0 {
			t.Fatalf("empty status %+v %v", st, err)
		}
		a := pkiAuthority(t, db, "aa")
		got, err := db.Read().ActiveAuthority(ctx)
		if err != nil || got.ID != a.ID || string(got.KeySealed) != "sealed aa" || !got.Active || got.Origin != pki.OriginGenerated {
			t.Fatalf("active: %+v %v", got, err)
		}
		// A second server-wide issuer is impossible.
		b := &pki.Authority{CertDER: []byte("b"), KeySealed: []byte("k"), Fingerprint: "bb", Origin: pki.OriginImported, Active: true, Issuing: true, CreatedAt: time.Now()}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.InsertAuthority(ctx, b) }); !fault.Is(err, fault.Conflict) {
			t.Fatalf("second active authority: %v", err)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.RetireAuthority(ctx, a.ID, time.Now()); err != nil {
				return err
			}
			return tx.InsertAuthority(ctx, b)
		})
		if err != nil {
			t.Fatal(err)
		}
		var sealed []byte
		if err := db.SQL().QueryRow(`SELECT key_sealed FROM pki_authorities WHERE id = $1`, a.ID).Scan(&sealed); err != nil || sealed != nil {
			t.Fatalf("retired key: %q %v", sealed, err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.RetireAuthority(ctx, a.ID, time.Now()) }); !fault.Is(err, fault.NotFound) {
			t.Fatalf("retiring twice: %v", err)
		}
	})
}

func TestPKICertificates(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := pkiAuthority(t, db, "aa")
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		certs := []*pki.Certificate{
			pkiCert(a.ID, 1, 10, "", now.Add(time.Hour)),
			pkiCert(a.ID, 2, 10, "", now.Add(-time.Hour)), // expired
			pkiCert(a.ID, 3, 11, "", now.Add(time.Hour)),
			pkiCert(a.ID, 4, 0, "gw-1", now.Add(time.Hour)),
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, c := range certs {
				if err := tx.InsertCertificate(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.InsertCertificate(ctx, certs[0]) }); !fault.Is(err, fault.Conflict) {
			t.Fatalf("duplicate serial: %v", err)
		}
		got, err := db.Read().CertificateBySerial(ctx, "04")
		if err != nil || got.GatewayID != "gw-1" || got.UserID != 0 || got.Kind != pki.KindServer || got.Revoked() ||
			!got.NotAfter.Equal(now.Add(time.Hour)) || got.NotAfter.Location() != time.UTC || string(got.DER) != "\x30\x04" {
			t.Fatalf("by serial: %+v %v", got, err)
		}
		if _, err := db.Read().CertificateBySerial(ctx, "99"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("unknown serial: %v", err)
		}
		if n, err := db.Read().CountCertificates(ctx, a.ID); err != nil || n != 4 {
			t.Fatalf("count %d %v", n, err)
		}

		serials := func(cs []*pki.Certificate) string {
			s := ""
			for _, c := range cs {
				s += string(c.Serial) + " "
			}
			return s
		}
		for _, tc := range []struct {
			name string
			o    pki.Owner
			auth int64
			want string
		}{
			{"user", pki.Owner{UserID: 10}, 0, "01 "},
			{"gateway", pki.Owner{GatewayID: "gw-1"}, 0, "04 "},
			{"authority", pki.Owner{}, a.ID, "01 03 04 "},
		} {
			cs, err := db.Read().UnrevokedCertificates(ctx, tc.o, tc.auth, now)
			if err != nil || serials(cs) != tc.want {
				t.Fatalf("%s: %q %v, want %q", tc.name, serials(cs), err, tc.want)
			}
		}

		at := now.Add(-time.Minute)
		err = db.InTx(ctx, func(tx *store.Tx) error {
			for _, sn := range []pki.Serial{"01", "02"} {
				if err := tx.RevokeCertificate(ctx, sn, at, pki.KeyCompromise); err != nil {
					return err
				}
			}
			return tx.BumpRevision(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.RevokeCertificate(ctx, "01", at, pki.Superseded) }); !fault.Is(err, fault.NotFound) {
			t.Fatalf("revoking twice: %v", err)
		}
		got, _ = db.Read().CertificateBySerial(ctx, "01")
		if !got.Revoked() || !got.RevokedAt.Equal(at) || got.Reason != pki.KeyCompromise {
			t.Fatalf("revoked record %+v", got)
		}
		entries, err := db.Read().RevokedEntries(ctx, a.ID, now)
		if err != nil || len(entries) != 1 || entries[0].Serial != "01" || entries[0].Reason != pki.KeyCompromise || !entries[0].RevokedAt.Equal(at) {
			t.Fatalf("revoked entries (the expired one left out): %+v %v", entries, err)
		}
		if st, _ := db.Read().PKIStatus(ctx); st.Revision != 1 || st.AuthorityID != a.ID {
			t.Fatalf("status %+v", st)
		}
	})
}

func TestPKICRL(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := pkiAuthority(t, db, "aa")

		// Concurrent allocations never hand out a number twice.
		const n = 20
		var mu sync.Mutex
		seen := map[int64]bool{}
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var num int64
				err := db.InTx(ctx, func(tx *store.Tx) error {
					var err error
					num, _, err = tx.NextCRLNumber(ctx)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[num] = true
				mu.Unlock()
			}()
		}
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("%d distinct numbers from %d allocations", len(seen), n)
		}

		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		save := func(number int64) bool {
			t.Helper()
			var ok bool
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				ok, err = tx.SaveCRL(ctx, &pki.StoredCRL{AuthorityID: a.ID, Number: number, Revision: number * 10, Entries: int(number),
					DER: []byte(fmt.Sprint("crl ", number)), ThisUpdate: t0, NextUpdate: t0.Add(24 * time.Hour)})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		for _, tc := range []struct {
			number int64
			saved  bool
			stored int64
		}{{5, true, 5}, {7, true, 7}, {6, false, 7}, {7, false, 7}, {8, true, 8}} {
			if got := save(tc.number); got != tc.saved {
				t.Fatalf("SaveCRL(%d) = %v, want %v", tc.number, got, tc.saved)
			}
			c, err := db.Read().LoadCRL(ctx, a.ID)
			if err != nil || c.Number != tc.stored || string(c.DER) != fmt.Sprint("crl ", tc.stored) || c.Revision != tc.stored*10 ||
				!c.NextUpdate.Equal(t0.Add(24*time.Hour)) {
				t.Fatalf("after SaveCRL(%d): %+v %v", tc.number, c, err)
			}
		}
		st, err := db.Read().PKIStatus(ctx)
		if err != nil || st.CRL == nil || st.CRL.Number != 8 || st.CRL.DER != nil || st.CRL.Entries != 8 || !st.CRL.NextUpdate.Equal(t0.Add(24*time.Hour)) {
			t.Fatalf("status %+v %v", st, err)
		}
		if _, err := db.Read().LoadCRL(ctx, a.ID+1); !fault.Is(err, fault.NotFound) {
			t.Fatalf("missing CRL: %v", err)
		}
	})
}
