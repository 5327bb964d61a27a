package nekzus_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"netkeep/internal/config"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store/storetest"
)

// next returns s's next message.
func (s *stream) next(tb testing.TB) wsFrame {
	tb.Helper()
	select {
	case f := <-s.msgs:
		return f
	case err := <-s.end:
		tb.Fatalf("stream ended: %v", err)
	case <-time.After(wsWait):
		tb.Fatalf("no message within %v", wsWait)
	}
	return wsFrame{}
}

// awaitType reads s until a message of type typ, skipping others.
func (s *stream) awaitType(tb testing.TB, typ string) wsFrame {
	tb.Helper()
	for {
		if f := s.next(tb); f.Type == typ {
			return f
		}
	}
}

// TestReloadPublishesConfigReload: a reload (what SIGHUP runs) applies the
// route file as it is now and tells every stream subscriber, on every
// replica, config_reload with the documented data; a file that cannot be
// used changes nothing and announces nothing.
func TestReloadPublishesConfigReload(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			apps := filepath.Join(t.TempDir(), "apps.yaml")
			write := func(text string) {
				if err := os.WriteFile(apps, []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			write("routes:\n  - appId: wiki\n    to: http://127.0.0.1:9\n")
			a := servertest.StartWith(t, kind, func(c *config.Config) { c.AppsFile = apps })
			listeners := []*servertest.Env{a}
			if kind == config.Postgres {
				listeners = append(listeners, servertest.Replica(t, a))
			}
			a.CreateUser(t, "admin", "password1", identity.GroupAdmin, "default")
			token, _ := a.Login(t, "admin", "password1")
			var streams []*stream
			for _, e := range listeners {
				streams = append(streams, listen(t, e, token))
			}

			write("routes:\n  - appId: wiki\n    to: http://127.0.0.1:9\n  - appId: grafana\n    to: http://127.0.0.1:3000\n")
			done, err := a.Server.Reload(context.Background())
			if err != nil || len(done.Files) != 1 || done.Files[0] != apps {
				t.Fatalf("reload: %+v %v", done, err)
			}
			if _, ok := a.Server.Catalog.Lookup("grafana"); !ok {
				t.Fatal("the reloaded file's new app is not served")
			}
			for i, s := range streams {
				f := s.awaitType(t, "config_reload")
				if string(f.Data) != `{"message":"Configuration reloaded"}` || f.Timestamp.IsZero() {
					t.Fatalf("replica %d: config_reload %s at %v", i, f.Data, f.Timestamp)
				}
			}

			write("routes:\n  - appId: wiki\n    to: ftp://nope\n")
			if done, err := a.Server.Reload(context.Background()); err == nil || len(done.Files) != 0 {
				t.Fatalf("bad file reloaded: %+v %v", done, err)
			}
			if e, ok := a.Server.Catalog.Lookup("wiki"); !ok || e.Route.To != "http://127.0.0.1:9" {
				t.Fatalf("a bad file changed the catalog: %v %+v", ok, e.Route)
			}
			if _, ok := a.Server.Catalog.Lookup("grafana"); !ok {
				t.Fatal("a bad file removed an app")
			}
			// A change made after the failed reload arrives with no
			// config_reload before it.
			if r := a.Do(t, "POST", "/api/v1/routes", map[string]any{"appId": "marker", "to": "http://127.0.0.1:9"}, servertest.Bearer(token)...); r.Status != 201 {
				t.Fatalf("marker route: %d %s", r.Status, r.Raw)
			}
			for {
				f := streams[0].next(t)
				if f.Type == "config_reload" {
					t.Fatal("a failed reload announced config_reload")
				}
				if strings.Contains(string(f.Data), `"marker"`) {
					break
				}
			}
		})
	}
}
