package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/config"
	"netkeep/internal/gateway"
	"netkeep/internal/identity"
	"netkeep/internal/meshwire"
	"netkeep/internal/pki"
	"netkeep/internal/server"
	"netkeep/internal/store/storetest"
)

// TestClientConfigTTLSetting: client-config-ttl (or its deprecated name
// pki-client-cert-ttl) is the one lifetime of VPN client configurations:
// an OpenVPN config's certificate and a WireGuard config expire after it,
// and so does a client certificate issued without a lifetime of its own.
func TestClientConfigTTLSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		flags []string
		want  time.Duration
	}{
		{"default 24h", nil, 24 * time.Hour},
		{"configured 2h", []string{"--client-config-ttl", "2h"}, 2 * time.Hour},
		{"deprecated name 3h", []string{"--pki-client-cert-ttl", "3h"}, 3 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, storetest.Open(t, config.SQLite), tt.flags...)
			start(t, srv)
			ctx := context.Background()
			src := audit.Source{Actor: "test"}
			admin, err := srv.Identity.Setup(ctx, src, "admin", "correct horse")
			if err != nil {
				t.Fatal(err)
			}
			login, err := srv.Identity.Login(ctx, src, identity.LoginRequest{Login: "admin", Password: "correct horse"})
			if err != nil {
				t.Fatal(err)
			}
			p, err := srv.Identity.AuthenticateAccess(ctx, login.Tokens.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			ovpn := ttlGateway(t, srv, p, admin.GroupID, "openvpn")
			wg := ttlGateway(t, srv, p, admin.GroupID, "wireguard")
			key, err := wgtypes.GeneratePrivateKey()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := srv.Gateways.Heartbeat(ctx, &authz.Principal{Kind: authz.KindGateway, Subject: wg}, src,
				gateway.Heartbeat{PublicKey: key.PublicKey().String()}); err != nil {
				t.Fatal(err)
			}
			name, cidr, gws := "ttl-net", "10.77.0.0/16", []string{ovpn, wg}
			n, err := srv.Gateways.CreateNetwork(ctx, p, src, gateway.NetworkInput{Name: &name, CIDR: &cidr, GatewayIDs: &gws})
			if err != nil {
				t.Fatal(err)
			}
			rule, users := "ttl", []int64{admin.ID}
			if _, err := srv.Gateways.CreateRule(ctx, p, src, gateway.RuleInput{Name: &rule, NetworkID: &n.ID, UserIDs: &users}); err != nil {
				t.Fatal(err)
			}

			lifetimes := map[string]func() (time.Time, time.Time){
				"openvpn config": func() (time.Time, time.Time) {
					g, err := srv.Configs.Generate(ctx, p, src, ovpn, "openvpn")
					if err != nil {
						t.Fatal(err)
					}
					cert, err := srv.PKI.Certificate(ctx, g.Config.Serial)
					if err != nil {
						t.Fatal(err)
					}
					if !cert.NotAfter.Equal(g.Config.ExpiresAt) {
						t.Errorf("certificate NotAfter %v, config expires %v", cert.NotAfter, g.Config.ExpiresAt)
					}
					return g.Config.CreatedAt, g.Config.ExpiresAt
				},
				"wireguard config": func() (time.Time, time.Time) {
					g, err := srv.Configs.Generate(ctx, p, src, wg, "wireguard")
					if err != nil {
						t.Fatal(err)
					}
					return g.Config.CreatedAt, g.Config.ExpiresAt
				},
				"client certificate": func() (time.Time, time.Time) {
					out, err := srv.PKI.IssueClient(ctx, src, pki.ClientRequest{CommonName: "alice", UserID: admin.ID, GroupID: admin.GroupID})
					if err != nil {
						t.Fatal(err)
					}
					return out.Certificate.CreatedAt, out.Certificate.NotAfter
				},
			}
			for kind, lifetime := range lifetimes {
				before := time.Now().Add(-time.Second)
				_, expires := lifetime()
				after := time.Now().Add(time.Second)
				if lo, hi := before.Add(tt.want), after.Add(tt.want); expires.Before(lo) || expires.After(hi) {
					t.Errorf("%s expires %v, want between %v and %v", kind, expires, lo, hi)
				}
			}
		})
	}
}

// ttlGateway creates a gateway of vpnType in group as p.
func ttlGateway(tb testing.TB, srv *server.Server, p *authz.Principal, group int64, vpnType string) string {
	tb.Helper()
	name, host := "gw-"+vpnType, vpnType+".example.com"
	in := gateway.GatewayInput{GroupID: &group, Name: &name, Hostname: &host, VPNType: &vpnType}
	if vpnType == "wireguard" {
		subnet := "10.99.0.0/24"
		in.VPNSubnet = &subnet
	}
	c, err := srv.Gateways.CreateGateway(context.Background(), p, audit.Source{Actor: "test"}, in)
	if err != nil {
		tb.Fatal(err)
	}
	return c.Gateway.ID
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
