package server_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/meshwire"
	"netkeep/internal/pki"
	"netkeep/internal/store/storetest"
)

// TestClientCertTTLSetting: pki-client-cert-ttl is the lifetime of a client
// certificate issued without one of its own.
func TestClientCertTTLSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		flags []string
		want  time.Duration
	}{
		{"default 24h", nil, 24 * time.Hour},
		{"configured 2h", []string{"--pki-client-cert-ttl", "2h"}, 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, storetest.Open(t, config.SQLite), tt.flags...)
			start(t, srv)
			before := time.Now().Truncate(time.Second)
			out, err := srv.PKI.IssueClient(context.Background(), audit.Source{Actor: "test"},
				pki.ClientRequest{CommonName: "alice", UserID: 1, GroupID: 1})
			if err != nil {
				t.Fatal(err)
			}
			block, _ := pem.Decode(out.CertPEM)
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if lo, hi := before.Add(tt.want), time.Now().Add(tt.want); cert.NotAfter.Before(lo) || cert.NotAfter.After(hi) {
				t.Fatalf("NotAfter = %v, want between %v and %v", cert.NotAfter, lo, hi)
			}
		})
	}
}

// TestPublicURLSetting: links the server gives out (the agent install
// script, an access key's access string) use public-url when set, and the
// request's scheme and host otherwise.
func TestPublicURLSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		flags []string
		base  string
	}{
		{"from the request", nil, "http://netkeep.internal:8080"},
		{"configured", []string{"--public-url", "https://vpn.example.com/nk"}, "https://vpn.example.com/nk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, storetest.Open(t, config.SQLite), tt.flags...)
			start(t, srv)
			do := func(method, path, body, token string) *httptest.ResponseRecorder {
				r := httptest.NewRequest(method, "http://netkeep.internal:8080"+path, strings.NewReader(body))
				if token != "" {
					r.Header.Set("Authorization", "Bearer "+token)
				}
				w := httptest.NewRecorder()
				srv.Handler().ServeHTTP(w, r)
				return w
			}

			w := do("GET", "/meshclient/files/install.sh", "", "")
			if want := "'" + tt.base + "/meshclient/files/netkeep'"; w.Code != http.StatusOK || !strings.Contains(w.Body.String(), want) {
				t.Fatalf("install.sh: %d %s\nwant a link %s", w.Code, w.Body, want)
			}

			ctx := context.Background()
			if _, err := srv.Identity.Setup(ctx, audit.Source{}, "admin", "correct horse"); err != nil {
				t.Fatal(err)
			}
			login, err := srv.Identity.Login(ctx, audit.Source{}, identity.LoginRequest{Login: "admin", Password: "correct horse"})
			if err != nil {
				t.Fatal(err)
			}
			token := login.Tokens.AccessToken
			if w := do("POST", "/api/networks", `{"netid":"pub","addressrange":"10.62.0.0/24"}`, token); w.Code != http.StatusOK {
				t.Fatalf("create network: %d %s", w.Code, w.Body)
			}
			w = do("POST", "/api/networks/pub/keys", `{"uses":1}`, token)
			var key struct {
				AccessString string `json:"accessstring"`
			}
			if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &key) != nil {
				t.Fatalf("create key: %d %s", w.Code, w.Body)
			}
			as, err := meshwire.ParseAccessString(key.AccessString)
			if err != nil || as.Server != tt.base || as.Network != "pub" {
				t.Fatalf("access string %+v (%v), want server %s", as, err, tt.base)
			}
		})
	}
}
