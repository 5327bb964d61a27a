package pki_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/fault"
	"netkeep/internal/pki"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

func TestIssue(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := newFakeClock()
		s := startService(t, db, newKeys(t), nil, pki.WithClock(clock.Now))
		ca := mustCA(t, s)
		roots := x509.NewCertPool()
		roots.AddCert(ca.Certificate)

		tests := []struct {
			name    string
			issue   func() (*pki.Issued, error)
			kind    pki.Kind
			eku     x509.ExtKeyUsage
			ttl     time.Duration
			dns     []string
			ips     []string
			user    int64
			gateway string
		}{
			{name: "client/default 24h", kind: pki.KindClient, eku: x509.ExtKeyUsageClientAuth, ttl: 24 * time.Hour, user: 7,
				issue: func() (*pki.Issued, error) {
					return s.IssueClient(ctx, src, pki.ClientRequest{CommonName: "alice", UserID: 7, GroupID: 3})
				}},
			{name: "client/custom ttl", kind: pki.KindClient, eku: x509.ExtKeyUsageClientAuth, ttl: time.Hour, user: 7,
				issue: func() (*pki.Issued, error) {
					return s.IssueClient(ctx, src, pki.ClientRequest{CommonName: "alice", UserID: 7, GroupID: 3, TTL: time.Hour})
				}},
			{name: "server/hostname", kind: pki.KindServer, eku: x509.ExtKeyUsageServerAuth, ttl: 365 * 24 * time.Hour,
				dns: []string{"vpn.example.com", "alt.example.com"}, gateway: "gw-001",
				issue: func() (*pki.Issued, error) {
					return s.IssueServer(ctx, src, pki.ServerRequest{CommonName: "vpn.example.com", GatewayID: "gw-001", GroupID: 3,
						DNSNames: []string{"alt.example.com"}})
				}},
			{name: "server/address", kind: pki.KindServer, eku: x509.ExtKeyUsageServerAuth, ttl: 365 * 24 * time.Hour,
				ips: []string{"192.0.2.10"}, gateway: "gw-002",
				issue: func() (*pki.Issued, error) {
					return s.IssueServer(ctx, src, pki.ServerRequest{CommonName: "192.0.2.10", GatewayID: "gw-002", GroupID: 3})
				}},
			{name: "client/ttl cut to the CA's lifetime", kind: pki.KindClient, eku: x509.ExtKeyUsageClientAuth, user: 7,
				ttl: ca.Certificate.NotAfter.Sub(clock.Now().Truncate(time.Second)),
				issue: func() (*pki.Issued, error) {
					return s.IssueClient(ctx, src, pki.ClientRequest{CommonName: "alice", UserID: 7, GroupID: 3, TTL: 20 * 365 * 24 * time.Hour})
				}},
		}
		serials := map[pki.Serial]bool{}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				now := clock.Now().Truncate(time.Second)
				out, err := tc.issue()
				if err != nil {
					t.Fatal(err)
				}
				leaf := parsePEMCert(t, out.CertPEM)
				eku := tc.eku
				if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{eku}, CurrentTime: now}); err != nil {
					t.Fatalf("does not verify for %v: %v", eku, err)
				}
				other := x509.ExtKeyUsageServerAuth
				if eku == other {
					other = x509.ExtKeyUsageClientAuth
				}
				if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{other}, CurrentTime: now}); err == nil {
					t.Fatalf("also verifies for %v", other)
				}
				// The key is fresh P-256 and belongs to the certificate.
				if _, err := tls.X509KeyPair(out.CertPEM, out.KeyPEM); err != nil {
					t.Fatalf("key does not match: %v", err)
				}
				blk, _ := pem.Decode(out.KeyPEM)
				key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
				if err != nil || blk.Type != "PRIVATE KEY" {
					t.Fatalf("key: %s %v", blk.Type, err)
				}
				if k, ok := key.(*ecdsa.PrivateKey); !ok || k.Curve != elliptic.P256() {
					t.Fatalf("key is %T", key)
				}
				if string(out.CAPEM) != string(ca.PEM) {
					t.Fatal("CAPEM is not the CA")
				}
				// Serial: positive, at most 128 bits, as recorded.
				c := out.Certificate
				if leaf.SerialNumber.Sign() <= 0 || leaf.SerialNumber.BitLen() > 128 || pki.SerialOf(leaf.SerialNumber) != c.Serial {
					t.Fatalf("serial %x, record %s", leaf.SerialNumber, c.Serial)
				}
				if serials[c.Serial] {
					t.Fatal("serial reused")
				}
				serials[c.Serial] = true
				if got := leaf.NotAfter.Sub(leaf.NotBefore) - time.Minute; got != tc.ttl {
					t.Fatalf("lifetime %v, want %v (plus a minute of backdating)", got, tc.ttl)
				}
				if leaf.Subject.CommonName == "" || leaf.IsCA || leaf.KeyUsage != x509.KeyUsageDigitalSignature {
					t.Fatalf("leaf: CN %q CA %v KU %b", leaf.Subject.CommonName, leaf.IsCA, leaf.KeyUsage)
				}
				if len(tc.dns) > 0 || len(tc.ips) > 0 {
					if len(leaf.DNSNames) != len(tc.dns) {
						t.Fatalf("DNS SANs %v, want %v", leaf.DNSNames, tc.dns)
					}
					for i, d := range tc.dns {
						if leaf.DNSNames[i] != d {
							t.Fatalf("DNS SANs %v, want %v", leaf.DNSNames, tc.dns)
						}
					}
					if len(leaf.IPAddresses) != len(tc.ips) || (len(tc.ips) > 0 && !leaf.IPAddresses[0].Equal(net.ParseIP(tc.ips[0]))) {
						t.Fatalf("IP SANs %v, want %v", leaf.IPAddresses, tc.ips)
					}
				}

				// The record: everything but the key.
				got, err := s.Certificate(ctx, c.Serial)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case got.Kind != tc.kind, got.UserID != tc.user, got.GatewayID != tc.gateway, got.GroupID != 3,
					got.CommonName != leaf.Subject.CommonName, got.AuthorityID != ca.ID, got.Revoked(), got.Reason != "",
					!got.NotBefore.Equal(leaf.NotBefore), !got.NotAfter.Equal(leaf.NotAfter), string(got.DER) != string(leaf.Raw):
					t.Fatalf("record %+v", got)
				}
				entries, err := db.Read().ListAudit(ctx, audit.Query{Action: "pki.issue", Limit: 1})
				if err != nil || len(entries) != 1 || entries[0].Target != "certificate:"+string(c.Serial) || entries[0].GroupID != 3 {
					t.Fatalf("audit: %+v %v", entries, err)
				}
			})
		}
	})
}

func TestIssueInvalid(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := startService(t, db, newKeys(t), nil)
		long := "a"
		for len(long) <= pki.MaxCommonName {
			long += "a"
		}
		tests := []struct {
			name  string
			issue func() error
		}{
			{"client/no user", func() error {
				_, err := s.IssueClient(ctx, src, pki.ClientRequest{CommonName: "alice"})
				return err
			}},
			{"client/no common name", func() error {
				_, err := s.IssueClient(ctx, src, pki.ClientRequest{CommonName: "  ", UserID: 1})
				return err
			}},
			{"client/common name too long", func() error {
				_, err := s.IssueClient(ctx, src, pki.ClientRequest{CommonName: long, UserID: 1})
				return err
			}},
			{"client/control character", func() error {
				_, err := s.IssueClient(ctx, src, pki.ClientRequest{CommonName: "a\nb", UserID: 1})
				return err
			}},
			{"client/negative ttl", func() error {
				_, err := s.IssueClient(ctx, src, pki.ClientRequest{CommonName: "alice", UserID: 1, TTL: -time.Hour})
				return err
			}},
			{"server/no gateway", func() error {
				_, err := s.IssueServer(ctx, src, pki.ServerRequest{CommonName: "vpn.example.com"})
				return err
			}},
			{"server/bad DNS name", func() error {
				_, err := s.IssueServer(ctx, src, pki.ServerRequest{CommonName: "vpn", GatewayID: "gw", DNSNames: []string{"bad name"}})
				return err
			}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if err := tc.issue(); !fault.Is(err, fault.Invalid) {
					t.Fatalf("err = %v, want invalid", err)
				}
			})
		}
		var n int
		if err := db.SQL().QueryRow(`SELECT count(*) FROM pki_certificates`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d certificates recorded, %v", n, err)
		}
	})
}

func TestNotStarted(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, "sqlite")
	s := pki.NewService(store.For[pki.Tx](db), newKeys(t), nil, pki.DefaultConfig(), pki.WithLogger(quiet))
	defer s.Close()
	if _, err := s.IssueClient(context.Background(), src, pki.ClientRequest{CommonName: "a", UserID: 1}); !fault.Is(err, fault.Unavailable) {
		t.Fatalf("issue before Start: %v", err)
	}
	if _, err := s.CRL(); !fault.Is(err, fault.Unavailable) {
		t.Fatalf("CRL before Start: %v", err)
	}
	if _, err := s.CA(); !fault.Is(err, fault.Unavailable) {
		t.Fatalf("CA before Start: %v", err)
	}
}

func TestIssueAfterCAExpiry(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, "sqlite")
	clock := newFakeClock()
	s := startService(t, db, newKeys(t), nil, pki.WithClock(clock.Now))
	clock.Advance(mustCA(t, s).Certificate.NotAfter.Sub(clock.Now()) + time.Second)
	if _, err := s.IssueClient(context.Background(), src, pki.ClientRequest{CommonName: "a", UserID: 1}); !fault.Is(err, fault.Unavailable) {
		t.Fatalf("issue with an expired CA: %v", err)
	}
}
