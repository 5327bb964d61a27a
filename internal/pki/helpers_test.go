package pki_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/event"
	"netkeep/internal/pki"
	"netkeep/internal/secret"
	"netkeep/internal/store"
)

// waitFor bounds every poll; events normally arrive in milliseconds.
const waitFor = 10 * time.Second

var src = audit.Source{Actor: "test", IP: "127.0.0.1"}

// quiet discards the services' logs.
var quiet = slog.New(slog.DiscardHandler)

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Now().UTC().UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newKeys(tb testing.TB) *secret.Keys {
	tb.Helper()
	root := make([]byte, 32)
	_, _ = rand.Read(root)
	k, err := secret.Derive(root)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// startService starts a CA service over db; it is closed at test end.
func startService(tb testing.TB, db *store.DB, keys *secret.Keys, bus event.Bus, opts ...pki.Option) *pki.Service {
	tb.Helper()
	opts = append([]pki.Option{pki.WithLogger(quiet)}, opts...)
	s := pki.NewService(store.For[pki.Tx](db), keys, bus, pki.DefaultConfig(), opts...)
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(func() { cancel(); s.Close() })
	if err := s.Start(ctx); err != nil {
		tb.Fatalf("starting the CA: %v", err)
	}
	return s
}

func mustCA(tb testing.TB, s *pki.Service) *pki.CA {
	tb.Helper()
	ca, err := s.CA()
	if err != nil {
		tb.Fatal(err)
	}
	return ca
}

func mustCRL(tb testing.TB, s *pki.Service) (*pki.RevocationList, *x509.RevocationList) {
	tb.Helper()
	l, err := s.CRL()
	if err != nil {
		tb.Fatal(err)
	}
	parsed, err := x509.ParseRevocationList(l.DER)
	if err != nil {
		tb.Fatalf("parsing CRL: %v", err)
	}
	return l, parsed
}

func issueClient(tb testing.TB, s *pki.Service, user, group int64) *pki.Issued {
	tb.Helper()
	out, err := s.IssueClient(context.Background(), src, pki.ClientRequest{CommonName: "alice", UserID: user, GroupID: group})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func parsePEMCert(tb testing.TB, b []byte) *x509.Certificate {
	tb.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		tb.Fatalf("not a PEM certificate: %q", b)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// listed reports whether the CRL lists serial, and with which reason code.
func listed(l *x509.RevocationList, serial pki.Serial) (bool, int) {
	n := serial.Int()
	for _, e := range l.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(n) == 0 {
			return true, e.ReasonCode
		}
	}
	return false, 0
}

func eventually(tb testing.TB, cond func() bool, msg string) {
	tb.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("after %v: %s", waitFor, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
