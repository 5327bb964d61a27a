package pki_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/pki"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// pool parses a PEM bundle into a certificate pool, counting the CAs.
func pool(tb testing.TB, bundle []byte) (*x509.CertPool, int) {
	tb.Helper()
	p, n := x509.NewCertPool(), 0
	for rest := bundle; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return p, n
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			tb.Fatal(err)
		}
		p.AddCert(c)
		n++
	}
}

// verifies reports whether the issued client certificate chains to bundle.
func verifies(tb testing.TB, issued *pki.Issued, bundle []byte) bool {
	tb.Helper()
	roots, _ := pool(tb, bundle)
	_, err := parsePEMCert(tb, issued.CertPEM).Verify(x509.VerifyOptions{Roots: roots,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err == nil
}

func states(tb testing.TB, s *pki.Service, p *authz.Principal) map[int64]pki.CAState {
	tb.Helper()
	cas, err := s.GroupCAs(context.Background(), p)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[int64]pki.CAState{}
	for _, c := range cas {
		out[c.ID] = c.State
	}
	return out
}

func TestRotation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := startService(t, db, newKeys(t), nil)
		const groupA, groupB = 1, 2
		adminA := &authz.Principal{Kind: authz.KindUser, UserID: 2, Role: authz.GroupAdmin, GroupID: groupA}
		adminB := &authz.Principal{Kind: authz.KindUser, UserID: 3, Role: authz.GroupAdmin, GroupID: groupB}
		server := mustCA(t, s)

		// Before any rotation a group trusts and issues with the server-wide CA.
		tr, err := s.Trust(ctx, groupA)
		if err != nil || tr.Issuer.ID != server.ID || len(tr.CAs) != 1 || tr.Digest != server.Fingerprint {
			t.Fatalf("initial trust %+v %v", tr, err)
		}
		old := issueClient(t, s, 4, groupA)

		// Rotate: a pending CA of group A, trusted at once, issuing nothing.
		next, err := s.Rotate(ctx, adminA, src, pki.RotateRequest{Name: "A 2027", Validity: 2 * 365 * 24 * time.Hour})
		if err != nil || next.State != pki.StatePending || next.GroupID != groupA || next.Certificate.Subject.CommonName != "A 2027" {
			t.Fatalf("rotate: %+v %v", next, err)
		}
		if got := next.Certificate.NotAfter.Sub(next.Certificate.NotBefore); got < 2*365*24*time.Hour {
			t.Fatalf("validity %v", got)
		}
		tr, err = s.Trust(ctx, groupA)
		if err != nil || tr.Issuer.ID != server.ID || len(tr.CAs) != 2 || len(tr.CRLs) != 2 || tr.Digest == server.Fingerprint {
			t.Fatalf("trust while pending %+v %v", tr, err)
		}
		if issueClient(t, s, 4, groupA).Certificate.AuthorityID != server.ID {
			t.Fatal("a pending CA issued")
		}
		// Group B sees nothing of it.
		if got := states(t, s, adminB); len(got) != 1 || got[server.ID] != pki.StateCurrent {
			t.Fatalf("group B sees %v", got)
		}
		if _, err := s.Activate(ctx, adminB, src, next.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("group B activating A's CA: %v", err)
		}
		if _, err := s.RevokeCA(ctx, adminB, src, next.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("group B revoking A's CA: %v", err)
		}

		// Activate: the new CA issues, the old one stays trusted, so old and
		// new certificates both chain to the bundle.
		got, err := s.Activate(ctx, adminA, src, next.ID)
		if err != nil || got.State != pki.StateCurrent || got.ActivatedAt == nil {
			t.Fatalf("activate: %+v %v", got, err)
		}
		fresh := issueClient(t, s, 4, groupA)
		if fresh.Certificate.AuthorityID != next.ID || string(fresh.CAPEM) != string(next.PEM) {
			t.Fatal("the activated CA does not issue")
		}
		if st := states(t, s, adminA); st[server.ID] != pki.StateRetired || st[next.ID] != pki.StateCurrent {
			t.Fatalf("states after activation %v", st)
		}
		tr, err = s.Trust(ctx, groupA)
		if err != nil || tr.Issuer.ID != next.ID || tr.CAs[0].ID != next.ID || len(tr.CAs) != 2 {
			t.Fatalf("trust after activation %+v %v", tr, err)
		}
		if !verifies(t, old, tr.Bundle) || !verifies(t, fresh, tr.Bundle) {
			t.Fatal("the bundle does not trust both generations")
		}
		// Each CA signs its own CRL.
		for i, l := range tr.CRLs {
			crl, err := x509.ParseRevocationList(l.DER)
			if err != nil || crl.CheckSignatureFrom(tr.CAs[i].Certificate) != nil {
				t.Fatalf("CRL %d is not signed by its CA: %v", i, err)
			}
		}
		// Group B keeps the server-wide CA as its issuer.
		if issueClient(t, s, 5, groupB).Certificate.AuthorityID != server.ID {
			t.Fatal("group A's rotation changed group B's issuer")
		}
		if _, err := s.RevokeCA(ctx, adminA, src, next.ID); !fault.Is(err, fault.Conflict) {
			t.Fatalf("revoking the current issuer: %v", err)
		}

		// Revoke the old CA for group A: it leaves A's bundle, A's
		// certificates from it are revoked and listed on its CRL, while
		// group B still trusts it and keeps its certificates.
		keptB := issueClient(t, s, 5, groupB)
		rev, err := s.RevokeCA(ctx, adminA, src, server.ID)
		if err != nil || rev.State != pki.StateRevoked || rev.RevokedAt == nil {
			t.Fatalf("revoke: %+v %v", rev, err)
		}
		tr, err = s.Trust(ctx, groupA)
		if err != nil || len(tr.CAs) != 1 || tr.Issuer.ID != next.ID || verifies(t, old, tr.Bundle) {
			t.Fatalf("trust after revocation %+v %v", tr, err)
		}
		if c, err := s.Certificate(ctx, old.Certificate.Serial); err != nil || c.Reason != pki.CessationOfOperation {
			t.Fatalf("old certificate after CA revocation: %+v %v", c, err)
		}
		_, crl := mustCRL(t, s)
		if on, _ := listed(crl, old.Certificate.Serial); !on {
			t.Fatal("the server-wide CRL does not list group A's certificate")
		}
		if on, _ := listed(crl, keptB.Certificate.Serial); on {
			t.Fatal("group A's revocation revoked group B's certificate")
		}
		if trB, err := s.Trust(ctx, groupB); err != nil || trB.Issuer.ID != server.ID || len(trB.CAs) != 1 {
			t.Fatalf("group B's trust %+v %v", trB, err)
		}
		if _, err := s.RevokeCA(ctx, adminA, src, server.ID); !fault.Is(err, fault.Conflict) {
			t.Fatalf("revoking twice: %v", err)
		}
		if _, err := s.Activate(ctx, adminA, src, server.ID); !fault.Is(err, fault.Conflict) {
			t.Fatalf("activating a revoked CA: %v", err)
		}

		// Every change was audited in group A.
		a := int64(groupA)
		for _, action := range []string{"pki.ca.rotate", "pki.ca.activate", "pki.ca.revoke"} {
			entries, err := db.Read().ListAudit(ctx, audit.Query{GroupID: &a, Action: action, Limit: 10})
			if err != nil || len(entries) != 1 {
				t.Fatalf("%s: %d entries %v", action, len(entries), err)
			}
		}
	})
}

func TestRotationRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys := newKeys(t)
		s := startService(t, db, keys, nil)
		admin := &authz.Principal{Kind: authz.KindUser, UserID: 2, Role: authz.GroupAdmin, GroupID: 1}
		user := &authz.Principal{Kind: authz.KindUser, UserID: 4, Role: authz.User, GroupID: 1}
		readKey := &authz.Principal{Kind: authz.KindAPIKey, UserID: 2, Role: authz.GroupAdmin, GroupID: 1, KeyID: "k", Scopes: authz.Scopes{"pki:read": true}}
		tests := []struct {
			name string
			p    *authz.Principal
			req  pki.RotateRequest
			code fault.Code
		}{
			{name: "403/user", p: user, code: fault.Forbidden},
			{name: "403/read-only key", p: readKey, code: fault.Forbidden},
			{name: "401/anonymous", code: fault.Unauthorized},
			{name: "400/validity too short", p: admin, req: pki.RotateRequest{Validity: time.Hour}, code: fault.Invalid},
			{name: "400/validity too long", p: admin, req: pki.RotateRequest{Validity: 40 * 365 * 24 * time.Hour}, code: fault.Invalid},
			{name: "400/control character", p: admin, req: pki.RotateRequest{Name: "a\nb"}, code: fault.Invalid},
			{name: "200/default name", p: admin},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				c, err := s.Rotate(ctx, tc.p, src, tc.req)
				if tc.code != "" {
					if !fault.Is(err, tc.code) {
						t.Fatalf("got %v, want %s", err, tc.code)
					}
					return
				}
				if err != nil || c.State != pki.StatePending || c.Name == "" {
					t.Fatalf("%+v %v", c, err)
				}
			})
		}
		if _, err := s.GroupCAs(ctx, user); err != nil {
			t.Fatalf("a user reads the group's CAs: %v", err)
		}
		// The administration console's list is administrators' only.
		if _, err := s.GroupCAsAsAdmin(ctx, user); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("a user reads the console's CA list: %v", err)
		}
		if cas, err := s.GroupCAsAsAdmin(ctx, readKey); err != nil || len(cas) == 0 {
			t.Fatalf("an administrator's pki:read key reads the console's CA list: %d CAs, %v", len(cas), err)
		}
		if _, err := s.Activate(ctx, user, src, 1); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("a user activates: %v", err)
		}

		// The rotated CA's key is sealed at rest and opens on another
		// replica, which issues with it after activation there.
		cas, err := s.GroupCAs(ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		pending := cas[len(cas)-1]
		var sealed []byte
		if err := db.SQL().QueryRow(`SELECT key_sealed FROM pki_authorities WHERE id = $1`, pending.ID).Scan(&sealed); err != nil || len(sealed) == 0 {
			t.Fatalf("sealed key %v", err)
		}
		if _, err := x509.ParsePKCS8PrivateKey(sealed); err == nil {
			t.Fatal("the rotated CA's key is stored in the clear")
		}
		other := startService(t, db, keys, nil)
		if _, err := other.Activate(ctx, admin, src, pending.ID); err != nil {
			t.Fatal(err)
		}
		if got := issueClient(t, s, 4, 1); got.Certificate.AuthorityID != pending.ID {
			t.Fatal("the first replica does not issue with the CA activated on the second")
		}
		// Switching back to the server-wide CA is an activation too.
		if _, err := s.Activate(ctx, admin, src, mustCA(t, s).ID); err != nil {
			t.Fatal(err)
		}
		if got := issueClient(t, other, 4, 1); got.Certificate.AuthorityID != mustCA(t, s).ID {
			t.Fatal("the server-wide CA does not issue again")
		}
		if _, err := s.Activate(ctx, admin, src, 9999); !fault.Is(err, fault.NotFound) {
			t.Fatalf("unknown CA: %v", err)
		}
		// A group's own CA, once revoked, leaves service: its key is erased.
		if _, err := s.RevokeCA(ctx, admin, src, pending.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.SQL().QueryRow(`SELECT key_sealed FROM pki_authorities WHERE id = $1`, pending.ID).Scan(&sealed); err != nil || sealed != nil {
			t.Fatalf("revoked CA's key %q %v", sealed, err)
		}
		if _, err := s.CRLOf(pending.ID); err == nil {
			eventually(t, func() bool { _, err := s.CRLOf(pending.ID); return err != nil }, "the revoked CA's CRL is still served")
		}
	})
}
