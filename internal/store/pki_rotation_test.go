package store_test

import (
	"context"
	"testing"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/pki"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// groupAuthority stores a CA of group (pending: in service, not issuing).
func groupAuthority(tb testing.TB, db *store.DB, group int64, fp string) *pki.Authority {
	tb.Helper()
	a := &pki.Authority{GroupID: group, Name: "ca " + fp, CertDER: []byte("cert " + fp), KeySealed: []byte("sealed " + fp),
		Fingerprint: fp, Origin: pki.OriginGenerated, Active: true, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := db.InTx(context.Background(), func(tx *store.Tx) error { return tx.InsertAuthority(context.Background(), a) }); err != nil {
		tb.Fatal(err)
	}
	return a
}

func TestPKIGroupAuthorities(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		server := pkiAuthority(t, db, "aa")
		own := groupAuthority(t, db, 7, "g7")
		other := groupAuthority(t, db, 8, "g8")
		ids := func(group int64) []int64 {
			t.Helper()
			as, err := db.Read().GroupAuthorities(ctx, group)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, a := range as {
				out = append(out, a.ID)
			}
			return out
		}
		// A group sees its own CAs and the server-wide one, never another
		// group's.
		if got := ids(7); len(got) != 2 || got[0] != server.ID || got[1] != own.ID {
			t.Fatalf("group 7 sees %v", got)
		}
		if got := ids(8); len(got) != 2 || got[1] != other.ID {
			t.Fatalf("group 8 sees %v", got)
		}
		issuer := func(group int64) int64 {
			t.Helper()
			id, err := db.Read().IssuerID(ctx, group)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		if issuer(7) != server.ID {
			t.Fatal("a group without its own issuer issues with the server-wide CA")
		}
		at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.SetIssuer(ctx, 7, own.ID, at) }); err != nil {
			t.Fatal(err)
		}
		if issuer(7) != own.ID || issuer(8) != server.ID {
			t.Fatalf("issuers %d %d", issuer(7), issuer(8))
		}
		// A group cannot make another group's CA its issuer.
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.SetIssuer(ctx, 7, other.ID, at) }); !fault.Is(err, fault.NotFound) {
			t.Fatalf("foreign issuer: %v", err)
		}
		// Two issuers of one group are impossible.
		second := groupAuthority(t, db, 7, "g7b")
		_, err := db.SQL().Exec(`UPDATE pki_authorities SET issuing = TRUE WHERE id = $1`, second.ID)
		if err == nil {
			t.Fatal("a second issuer of group 7 was stored")
		}
		// The first activation is kept when the CA issues again later.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SetIssuer(ctx, 7, second.ID, at.Add(time.Hour)); err != nil {
				return err
			}
			return tx.SetIssuer(ctx, 7, own.ID, at.Add(2*time.Hour))
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Read().AuthorityByID(ctx, own.ID)
		if err != nil || !got.Issuing || got.ActivatedAt == nil || !got.ActivatedAt.Equal(at) || got.GroupID != 7 || got.Name != "ca g7" {
			t.Fatalf("own CA: %+v %v", got, err)
		}
		if _, err := db.Read().AuthorityByID(ctx, 9999); !fault.Is(err, fault.NotFound) {
			t.Fatalf("unknown CA: %v", err)
		}

		// Distrust hides nothing from the listing but marks it, once.
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.Distrust(ctx, 7, server.ID, at) }); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.Distrust(ctx, 7, server.ID, at) }); !fault.Is(err, fault.Conflict) {
			t.Fatalf("second distrust: %v", err)
		}
		as, err := db.Read().GroupAuthorities(ctx, 7)
		if err != nil || as[0].ID != server.ID || as[0].DistrustedAt == nil || !as[0].DistrustedAt.Equal(at) || as[1].DistrustedAt != nil {
			t.Fatalf("group 7 after distrust: %+v %v", as, err)
		}
		if as, _ := db.Read().GroupAuthorities(ctx, 8); as[0].DistrustedAt != nil {
			t.Fatal("group 7's distrust shows in group 8")
		}

		// Every CA in service is in the status, with its CRL's metadata.
		st, err := db.Read().PKIStatus(ctx)
		if err != nil || st.AuthorityID != server.ID || len(st.InService) != 4 {
			t.Fatalf("status %+v %v", st, err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.RetireAuthority(ctx, second.ID, at) }); err != nil {
			t.Fatal(err)
		}
		if st, _ := db.Read().PKIStatus(ctx); len(st.InService) != 3 {
			t.Fatalf("a retired CA stays in service: %+v", st.InService)
		}
	})
}

func TestPKIUnrevokedOfGroup(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := pkiAuthority(t, db, "aa")
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		mine, theirs := pkiCert(a.ID, 1, 10, "", now.Add(time.Hour)), pkiCert(a.ID, 2, 11, "", now.Add(time.Hour))
		theirs.GroupID = 4
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.InsertCertificate(ctx, mine); err != nil {
				return err
			}
			return tx.InsertCertificate(ctx, theirs)
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Read().UnrevokedCertificates(ctx, pki.Owner{GroupID: 4}, a.ID, now)
		if err != nil || len(got) != 1 || got[0].Serial != theirs.Serial {
			t.Fatalf("group 4's certificates: %v %v", got, err)
		}
	})
}
