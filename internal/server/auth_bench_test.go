package server_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/apikey"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/identity"
	"netkeep/internal/ratelimit"
	"netkeep/internal/secret"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// BenchmarkAuthOverhead measures what authentication adds to a minimal JSON
// handler behind the full middleware, in one run: no credential (public
// route), an API key (SHA-256 lookup in memory plus the per-key rate
// limiter), and a JWT access token. Goal: API key ≤ +10% over public.
func BenchmarkAuthOverhead(b *testing.B) {
	ctx := context.Background()
	db := storetest.Open(b, "sqlite")
	root := make([]byte, 32)
	_, _ = rand.Read(root)
	keys, _ := secret.Derive(root)
	bus := event.NewLocal()
	defer bus.Close()
	id := identity.NewService(store.For[identity.Tx](db), keys, bus, identity.DefaultConfig(),
		identity.WithPasswordParams(identity.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}))
	if err := id.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer id.Close()
	// A virtual clock advancing 400 ms per reading keeps one key under its
	// 500/minute and 10,000/hour limits however many iterations run.
	var ticks atomic.Int64
	base := time.Now()
	clock := func() time.Time { return base.Add(time.Duration(ticks.Add(1)) * 400 * time.Millisecond) }
	keySvc := apikey.NewService(store.For[apikey.Tx](db), bus, lookup{id}, apikey.WithClock(clock), apikey.WithCacheTTL(1000*time.Hour))
	defer keySvc.Close()

	u, err := id.Setup(ctx, audit.Source{}, "admin", "password1")
	if err != nil {
		b.Fatal(err)
	}
	p := &authz.Principal{Kind: authz.KindUser, UserID: u.ID, Role: authz.SuperAdmin, GroupID: u.GroupID}
	_, secretKey, err := keySvc.Create(ctx, p, audit.Source{}, apikey.NewKey{Name: "bench", Scopes: []string{"users:read"}, RatePerMinute: 500, RatePerHour: 10000})
	if err != nil {
		b.Fatal(err)
	}
	login, err := id.Login(ctx, audit.Source{}, identity.LoginRequest{Login: "admin", Password: "password1"})
	if err != nil {
		b.Fatal(err)
	}

	// Sessions are counted as in the server, on the same virtual clock.
	rt := api.NewRouter(&api.Authenticator{Access: id, Keys: keySvc, Sessions: ratelimit.New(clock)})
	minimal := func(w http.ResponseWriter, _ *http.Request) {
		api.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
	}
	rt.HandleFunc("GET /public", api.Public, minimal)
	rt.HandleFunc("GET /private", api.Authenticated, minimal)
	h := api.Wrap(rt, api.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: api.NewMetrics(), MaxBodyBytes: 1 << 20})

	run := func(b *testing.B, path string, hdr ...string) {
		req := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	}
	// Over loopback HTTP with keep-alive: the cost a client sees.
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := srv.Client()
	runHTTP := func(b *testing.B, path string, hdr ...string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			res, err := client.Do(req)
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
	b.Run("http-public", func(b *testing.B) { runHTTP(b, "/public") })
	b.Run("http-apikey", func(b *testing.B) { runHTTP(b, "/private", "X-API-Key", secretKey) })
	b.Run("http-jwt", func(b *testing.B) { runHTTP(b, "/private", "Authorization", "Bearer "+login.Tokens.AccessToken) })

	// paired: public and API-key requests alternate in one loop, in-process
	// and over loopback HTTP; see pairedOverhead. Requests are built once.
	keyHeader := []string{"X-API-Key", secretKey}
	serveOnce := func(path string, hdr []string) func(b *testing.B) {
		req := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		return func(b *testing.B) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	}
	getOnce := func(path string, hdr []string) func(b *testing.B) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		return func(b *testing.B) {
			res, err := client.Do(req)
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
	b.Run("paired", func(b *testing.B) {
		pairedOverhead(b, serveOnce("/public", nil), serveOnce("/private", keyHeader))
	})
	b.Run("http-paired", func(b *testing.B) {
		pairedOverhead(b, getOnce("/public", nil), getOnce("/private", keyHeader))
	})

	b.Run("public", func(b *testing.B) { run(b, "/public") })
	b.Run("apikey", func(b *testing.B) { run(b, "/private", "X-API-Key", secretKey) })
	b.Run("jwt", func(b *testing.B) { run(b, "/private", "Authorization", "Bearer "+login.Tokens.AccessToken) })
	b.Run("jwt-verify-only", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := id.AuthenticateAccess(ctx, login.Tokens.AccessToken); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// pairedOverhead measures the API key's cost where the machine is shared:
// each iteration serves GET /public (the same middleware and router, no
// credential) and GET /private with the key, alternating which goes first,
// and times each request. It reports the median of each and the key's
// overhead in percent of the public median. Load that comes and goes then
// slows both alike, where separate runs drift apart by ±20 %. An op is
// both requests; the time stamps add the same ~50 ns to each.
func pairedOverhead(b *testing.B, public, withKey func(b *testing.B)) {
	var pub, keyed []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range 2 {
			start := time.Now()
			if (i+j)%2 == 0 {
				public(b)
				pub = append(pub, time.Since(start))
			} else {
				withKey(b)
				keyed = append(keyed, time.Since(start))
			}
		}
	}
	b.StopTimer()
	mp, mk := median(pub), median(keyed)
	b.ReportMetric(float64(mp), "public-ns")
	b.ReportMetric(float64(mk), "apikey-ns")
	b.ReportMetric(100*(float64(mk)/float64(mp)-1), "overhead-%")
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

type lookup struct{ id *identity.Service }

func (l lookup) UserState(ctx context.Context, userID int64) (authz.Role, int64, string, bool, error) {
	st, err := l.id.UserState(ctx, userID)
	return authz.Role(st.Role), st.GroupID, st.Username, st.Active, err
}
