package pki_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/pki"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

func TestRevoke(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		bus := event.NewLocal()
		defer bus.Close()
		sub := bus.Subscribe("pki")
		s := startService(t, db, newKeys(t), bus)
		const groupA, groupB = 1, 2
		var (
			master     = &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}
			superAdmin = &authz.Principal{Kind: authz.KindUser, UserID: 1, Role: authz.SuperAdmin, GroupID: groupB}
			adminA     = &authz.Principal{Kind: authz.KindUser, UserID: 2, Role: authz.GroupAdmin, GroupID: groupA}
			adminB     = &authz.Principal{Kind: authz.KindUser, UserID: 3, Role: authz.GroupAdmin, GroupID: groupB}
			userA      = &authz.Principal{Kind: authz.KindUser, UserID: 4, Role: authz.User, GroupID: groupA}
			keyA       = &authz.Principal{Kind: authz.KindAPIKey, UserID: 2, Role: authz.GroupAdmin, GroupID: groupA, KeyID: "k1", Scopes: authz.Scopes{"pki:write": true}}
			readKeyA   = &authz.Principal{Kind: authz.KindAPIKey, UserID: 2, Role: authz.GroupAdmin, GroupID: groupA, KeyID: "k2", Scopes: authz.Scopes{"pki:read": true}}
			gateway    = &authz.Principal{Kind: authz.KindGateway, Subject: "gw-1"}
		)
		certA := func() pki.Serial { return issueClient(t, s, 4, groupA).Certificate.Serial }
		revoked := certA()
		if _, err := s.Revoke(ctx, adminA, src, string(revoked), "superseded"); err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name   string
			p      *authz.Principal
			serial func() string
			reason string
			code   fault.Code // "" for success
			want   pki.Reason
		}{
			{name: "ok/group admin", p: adminA, serial: func() string { return string(certA()) }, reason: "keyCompromise", want: pki.KeyCompromise},
			{name: "ok/lower case with colons", p: adminA, reason: "superseded", want: pki.Superseded, serial: func() string {
				sn := strings.ToLower(string(certA()))
				var b strings.Builder
				for i := 0; i < len(sn); i += 2 {
					if i > 0 {
						b.WriteByte(':')
					}
					b.WriteString(sn[i : i+2])
				}
				return b.String()
			}},
			{name: "ok/reason defaults to unspecified", p: adminA, serial: func() string { return string(certA()) }, want: pki.Unspecified},
			{name: "ok/API key with pki:write", p: keyA, serial: func() string { return string(certA()) }, reason: "cessationOfOperation", want: pki.CessationOfOperation},
			{name: "ok/super admin of another group", p: superAdmin, serial: func() string { return string(certA()) }, reason: "affiliationChanged", want: pki.AffiliationChanged},
			{name: "ok/master key", p: master, serial: func() string { return string(certA()) }, reason: "privilegeWithdrawn", want: pki.PrivilegeWithdrawn},
			{name: "ok/already revoked keeps the first reason", p: adminA, serial: func() string { return string(revoked) }, reason: "keyCompromise", want: pki.Superseded},
			{name: "not_found/other group's certificate", p: adminB, serial: func() string { return string(certA()) }, code: fault.NotFound},
			{name: "not_found/unknown serial", p: adminA, serial: func() string { return "0102030405060708090A0B0C0D0E0F10" }, code: fault.NotFound},
			{name: "forbidden/user role", p: userA, serial: func() string { return string(certA()) }, code: fault.Forbidden},
			{name: "forbidden/API key without pki:write", p: readKeyA, serial: func() string { return string(certA()) }, code: fault.Forbidden},
			{name: "forbidden/gateway credential", p: gateway, serial: func() string { return string(certA()) }, code: fault.Forbidden},
			{name: "unauthorized/no principal", serial: func() string { return string(certA()) }, code: fault.Unauthorized},
			{name: "invalid/malformed serial", p: adminA, serial: func() string { return "xyz" }, code: fault.Invalid},
			{name: "invalid/unknown reason", p: adminA, serial: func() string { return string(certA()) }, reason: "lostIt", code: fault.Invalid},
			{name: "invalid/certificateHold", p: adminA, serial: func() string { return string(certA()) }, reason: "certificateHold", code: fault.Invalid},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				serial := tc.serial()
				before, _ := mustCRL(t, s)
				c, err := s.Revoke(ctx, tc.p, src, serial, tc.reason)
				if tc.code != "" {
					if !fault.Is(err, tc.code) {
						t.Fatalf("err = %v, want %s", err, tc.code)
					}
					if sn, perr := pki.ParseSerial(serial); perr == nil {
						if rec, err := s.Certificate(ctx, sn); err == nil && rec.Revoked() && sn != revoked {
							t.Fatal("the refused revocation changed the certificate")
						}
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if !c.Revoked() || c.Reason != tc.want {
					t.Fatalf("revoked %v reason %q, want %q", c.Revoked(), c.Reason, tc.want)
				}
				stored, err := s.Certificate(ctx, c.Serial)
				if err != nil || !stored.Revoked() || stored.Reason != tc.want || !stored.RevokedAt.Equal(*c.RevokedAt) {
					t.Fatalf("stored %+v, %v", stored, err)
				}
				after, parsed := mustCRL(t, s)
				ok, code := listed(parsed, c.Serial)
				if !ok || code != tc.want.Code() {
					t.Fatalf("CRL lists %s: %v with reason %d, want %d", c.Serial, ok, code, tc.want.Code())
				}
				if c.Serial == revoked {
					if after.Number != before.Number {
						t.Fatal("an idempotent revocation regenerated the CRL")
					}
					return
				}
				if after.Number <= before.Number || parsed.Number.Int64() != after.Number {
					t.Fatalf("CRL number %d after %d (extension %v)", after.Number, before.Number, parsed.Number)
				}
			})
		}

		// Each revocation was audited once, in the certificate's group.
		entries, err := db.Read().ListAudit(ctx, audit.Query{Action: "pki.revoke", Limit: 100})
		if err != nil || len(entries) != 7 {
			t.Fatalf("%d revoke audit entries, %v; want 7", len(entries), err)
		}
		for _, e := range entries {
			if e.GroupID != groupA || !strings.Contains(e.Details, `"reason"`) {
				t.Fatalf("audit entry %+v", e)
			}
		}
		// Events: "revoked" for each, each followed by a "crl".
		var revokedEvents, crlEvents int
		for len(sub.C()) > 0 {
			switch ev := <-sub.C(); ev.Action {
			case "revoked":
				revokedEvents++
			case "crl":
				crlEvents++
			}
		}
		if revokedEvents != 7 || crlEvents < 7 {
			t.Fatalf("events: %d revoked, %d crl", revokedEvents, crlEvents)
		}
	})
}

func TestRevokeOwnedAndUnchecked(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := startService(t, db, newKeys(t), nil)
		server := func(gw string) pki.Serial {
			out, err := s.IssueServer(ctx, src, pki.ServerRequest{CommonName: "vpn.example.com", GatewayID: gw, GroupID: 1})
			if err != nil {
				t.Fatal(err)
			}
			return out.Certificate.Serial
		}
		gw1a, gw1b, gw2 := server("gw-1"), server("gw-1"), server("gw-2")
		alice1, alice2, bob := issueClient(t, s, 10, 1).Certificate.Serial, issueClient(t, s, 10, 1).Certificate.Serial, issueClient(t, s, 11, 1).Certificate.Serial
		if _, err := s.RevokeUnchecked(ctx, src, alice2, pki.Superseded); err != nil {
			t.Fatal(err)
		}
		got, err := s.RevokeOwned(ctx, src, pki.Owner{GatewayID: "gw-1"}, pki.CessationOfOperation)
		if err != nil || len(got) != 2 {
			t.Fatalf("gateway: %d revoked, %v", len(got), err)
		}
		got, err = s.RevokeOwned(ctx, src, pki.Owner{UserID: 10}, pki.AffiliationChanged)
		if err != nil || len(got) != 1 || got[0].Serial != alice1 {
			t.Fatalf("user: %v, %v", got, err)
		}
		_, parsed := mustCRL(t, s)
		for sn, want := range map[pki.Serial]bool{gw1a: true, gw1b: true, alice1: true, alice2: true, gw2: false, bob: false} {
			if ok, _ := listed(parsed, sn); ok != want {
				t.Fatalf("CRL lists %s: %v, want %v", sn, ok, want)
			}
		}
		if c, _ := s.Certificate(ctx, alice2); c.Reason != pki.Superseded {
			t.Fatalf("a bulk revocation overwrote the reason: %q", c.Reason)
		}
		for _, o := range []pki.Owner{{}, {UserID: 1, GatewayID: "gw"}} {
			if _, err := s.RevokeOwned(ctx, src, o, pki.Superseded); !fault.Is(err, fault.Invalid) {
				t.Fatalf("owner %+v: %v", o, err)
			}
		}
		if _, err := s.RevokeUnchecked(ctx, src, bob, "certificateHold"); !fault.Is(err, fault.Invalid) {
			t.Fatalf("certificateHold: %v", err)
		}
		if _, err := s.RevokeUnchecked(ctx, src, "0102", pki.Superseded); !fault.Is(err, fault.NotFound) {
			t.Fatalf("unknown serial: %v", err)
		}
	})
}

func TestCheck(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := startService(t, db, newKeys(t), nil)
		sn := issueClient(t, s, 1, 1).Certificate.Serial
		c, err := s.Check(ctx, strings.ToLower(string(sn)))
		if err != nil || c.Serial != sn || c.Revoked() {
			t.Fatalf("check: %+v %v", c, err)
		}
		if _, err := s.RevokeUnchecked(ctx, src, sn, pki.KeyCompromise); err != nil {
			t.Fatal(err)
		}
		c, err = s.Check(ctx, string(sn))
		if err != nil || !c.Revoked() || c.Reason != pki.KeyCompromise || time.Since(*c.RevokedAt) > time.Minute {
			t.Fatalf("check after revoke: %+v %v", c, err)
		}
		if _, err := s.Check(ctx, "zz"); !fault.Is(err, fault.Invalid) {
			t.Fatalf("malformed: %v", err)
		}
		if _, err := s.Check(ctx, "0A0B"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("unknown: %v", err)
		}
	})
}
