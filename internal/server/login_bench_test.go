package server_test

import (
	"context"
	"crypto/rand"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"netkeep/internal/audit"
	"netkeep/internal/config"
	"netkeep/internal/event"
	"netkeep/internal/secret"
	"netkeep/internal/server"
	"netkeep/internal/store/storetest"
)

// BenchmarkLoginHTTP measures POST /api/v1/auth/login end to end: a real
// server at the production password cost (argon2id, 19 MiB, t=2) on SQLite,
// called over loopback HTTP with keep-alive. The login limit is 50 requests
// per minute per address, so run it with -benchtime of at most 50x.
func BenchmarkLoginHTTP(b *testing.B) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	cfg, err := config.Bind(fs).Load([]string{"--data-dir", b.TempDir()}, func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	root := make([]byte, 32)
	_, _ = rand.Read(root)
	keys, _ := secret.Derive(root)
	bus := event.NewLocal()
	defer bus.Close()
	srv := server.New(server.Deps{Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		DB: storetest.Open(b, config.SQLite), Keys: keys, Bus: bus})
	start(b, srv)
	if _, err := srv.Identity.Setup(context.Background(), audit.Source{}, "admin", "correct horse"); err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	const body = `{"username":"admin","password":"correct horse"}`
	b.ReportAllocs()
	for b.Loop() {
		res, err := hs.Client().Post(hs.URL+"/api/v1/auth/login", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}
