package gatekey_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/api/gatekey"
	"netkeep/internal/audit"
	"netkeep/internal/config"
	"netkeep/internal/pki"
	"netkeep/internal/secret"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// BenchmarkServeCRL serves the cached CRL through the PKI handler and, in
// the same run, the same bytes through a bare handler on the same router:
// "handler" and "bare" call the router in-process with a writer that
// discards the body; "http-*" fetch over loopback HTTP with keep-alive.
func BenchmarkServeCRL(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		svc := crlService(b, n)
		l, err := svc.CRL()
		if err != nil {
			b.Fatal(err)
		}
		rt := api.NewRouter(&api.Authenticator{})
		(&gatekey.Handlers{PKI: svc}).Register(rt)
		body := l.DER
		rt.HandleFunc("GET /bare", api.Public, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/pkix-crl")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
		})
		for _, c := range []struct{ name, path string }{{"bare", "/bare"}, {"handler", "/api/v1/pki/crl"}} {
			b.Run(fmt.Sprintf("%s/%d", c.name, n), func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, c.path, nil)
				w := &discard{h: http.Header{}}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					w.n = 0
					rt.ServeHTTP(w, req)
					if w.n != len(body) {
						b.Fatalf("wrote %d bytes, want %d", w.n, len(body))
					}
				}
			})
		}
		srv := httptest.NewServer(rt)
		for _, c := range []struct{ name, path string }{{"http-bare", "/bare"}, {"http-handler", "/api/v1/pki/crl"}} {
			b.Run(fmt.Sprintf("%s/%d", c.name, n), func(b *testing.B) {
				client := srv.Client()
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					res, err := client.Get(srv.URL + c.path)
					if err != nil {
						b.Fatal(err)
					}
					m, _ := io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 || m != int64(len(body)) {
						b.Fatalf("status %d, %d bytes", res.StatusCode, m)
					}
				}
			})
		}
		srv.Close()
	}
}

// discard is a ResponseWriter that counts and drops the body.
type discard struct {
	h http.Header
	n int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }

// crlService starts a CA on SQLite whose CRL lists n revoked serials.
func crlService(tb testing.TB, n int) *pki.Service {
	tb.Helper()
	ctx := context.Background()
	db := storetest.Open(tb, config.SQLite)
	root := make([]byte, 32)
	_, _ = rand.Read(root)
	keys, err := secret.Derive(root)
	if err != nil {
		tb.Fatal(err)
	}
	s := pki.NewService(store.For[pki.Tx](db), keys, nil, pki.DefaultConfig(), pki.WithLogger(slog.New(slog.DiscardHandler)))
	tb.Cleanup(s.Close)
	if err := s.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	ca, _ := s.CA()
	now := time.Now().UTC().Truncate(time.Second)
	err = db.InTx(ctx, func(tx *store.Tx) error {
		for range n - 1 {
			var sn [16]byte
			_, _ = rand.Read(sn[:])
			sn[0] |= 0x10
			c := &pki.Certificate{Serial: pki.Serial(fmt.Sprintf("%X", sn)), AuthorityID: ca.ID, Kind: pki.KindClient,
				CommonName: "seed", UserID: 1, GroupID: 1, NotBefore: now, NotAfter: now.Add(24 * time.Hour),
				DER: []byte{0x30}, RevokedAt: &now, Reason: pki.KeyCompromise, CreatedAt: now}
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return err
			}
		}
		return tx.BumpRevision(ctx)
	})
	if err != nil {
		tb.Fatal(err)
	}
	out, err := s.IssueClient(ctx, audit.Source{Actor: "bench"}, pki.ClientRequest{CommonName: "last", UserID: 1, GroupID: 1})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := s.RevokeUnchecked(ctx, audit.Source{Actor: "bench"}, out.Certificate.Serial, pki.Superseded); err != nil {
		tb.Fatal(err)
	}
	if l, _ := s.CRL(); l.Entries != n {
		tb.Fatalf("CRL lists %d entries, want %d", l.Entries, n)
	}
	return s
}
