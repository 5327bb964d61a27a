package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"netkeep/internal/config"
	"netkeep/internal/store/storetest"
)

// TestAppsFileSetting: --apps-file puts its routes in the catalog at
// start, in the default group; a file netkeep cannot use stops the start
// and names the problem.
func TestAppsFileSetting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("apps.yaml", "routes:\n  - appId: grafana\n    name: Grafana\n    to: http://127.0.0.1:3000\n    websocket: true\n")
	srv := newServer(t, storetest.Open(t, config.SQLite), "--apps-file", good)
	start(t, srv)
	e, ok := srv.Catalog.Lookup("grafana")
	if !ok || e.App.Name != "Grafana" || !e.Route.WebSocket || e.Route.To != "http://127.0.0.1:3000" {
		t.Fatalf("grafana from the file: %v %+v", ok, e)
	}
	gid, err := srv.Identity.DefaultGroupID(context.Background())
	if err != nil || e.App.GroupID != gid {
		t.Errorf("group %d, want the default group %d (%v)", e.App.GroupID, gid, err)
	}

	for _, c := range []struct{ name, file, want string }{
		{"missing file", filepath.Join(dir, "nope.yaml"), "apps-file"},
		{"unknown key", write("typo.yaml", "routes:\n  - appId: a\n    too: http://a\n"), "too"},
		{"bad upstream", write("bad.yaml", "routes:\n  - appId: a\n    to: ftp://a\n"), `app "a"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := newServer(t, storetest.Open(t, config.SQLite), "--apps-file", c.file)
			err := srv.Start(context.Background())
			defer srv.Close()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Start = %v, want an error naming %q", err, c.want)
			}
		})
	}
}
