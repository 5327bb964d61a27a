package netmaker_test

import (
	"net/http"
	"testing"

	"netkeep/internal/server/servertest"
)

// A fresh server that never ran setup serves the whole Netmaker flow to the
// master key, as Netmaker does from its first second: the network, its
// access key and the nodes land in the default group; a node joins with the
// key, authenticates with its password and reads its peers; the master key
// lists the nodes. Nothing of it is visible to another group.
func TestMasterKeyFlowWithoutSetup(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		if r := e.Do(t, "GET", "/api/users/adm/hasadmin", nil); r.Status != http.StatusOK || string(r.Raw) != "false\n" && string(r.Raw) != "false" {
			t.Fatalf("hasadmin on a fresh server: %d %s", r.Status, r.Raw)
		}
		def := e.DefaultGroupID(t)
		w := &meshWorld{e: e, adminA: servertest.Master()}
		steps := []struct {
			name string
			run  func(t *testing.T)
		}{
			{"200/create network", func(t *testing.T) {
				n := w.network(t, map[string]any{"netid": "skynet", "addressrange": "10.77.0.0/24"})
				if n["netid"] != "skynet" || n["addressrange"] != "10.77.0.0/24" || n["group_id"] != nil && n["group_id"] != float64(def) {
					t.Fatalf("network = %v", n)
				}
			}},
			{"200/list networks", func(t *testing.T) {
				r := e.Do(t, "GET", "/api/networks", nil, servertest.Master()...)
				if r.Status != http.StatusOK || len(r.Array) != 1 {
					t.Fatalf("networks: %d %s", r.Status, r.Raw)
				}
			}},
			{"200/access key, join, authenticate, peers", func(t *testing.T) {
				key := w.key(t, "skynet", 2)["value"].(string)
				for i := 1; i <= 2; i++ {
					node := w.join(t, "skynet", key, i)
					if node["group_id"] != float64(def) {
						t.Fatalf("node %d in group %v, want the default group %d", i, node["group_id"], def)
					}
				}
				r := e.Do(t, "GET", "/api/nodes/skynet/"+nodeMAC(1)+"/peers", nil, w.nodeToken(t, "skynet", 1)...)
				if r.Status != http.StatusOK || len(r.Array) != 1 {
					t.Fatalf("peers of node 1: %d %s", r.Status, r.Raw)
				}
			}},
			{"200/list nodes", func(t *testing.T) {
				for _, path := range []string{"/api/nodes", "/api/nodes/skynet"} {
					r := e.Do(t, "GET", path, nil, servertest.Master()...)
					if r.Status != http.StatusOK || len(r.Array) != 2 {
						t.Fatalf("%s: %d %s", path, r.Status, r.Raw)
					}
				}
			}},
			{"404/another group sees nothing", func(t *testing.T) {
				e.CreateUser(t, "outsider", password, "GROUP_ADMIN", "globex")
				other := servertest.Bearer(authenticate(t, e, "outsider", password))
				if r := e.Do(t, "GET", "/api/nodes", nil, other...); r.Status != http.StatusOK || len(r.Array) != 0 {
					t.Fatalf("another group's nodes: %d %s", r.Status, r.Raw)
				}
				wantError(t, e.Do(t, "GET", "/api/networks/skynet", nil, other...), http.StatusNotFound, "")
				wantError(t, e.Do(t, "DELETE", "/api/networks/skynet", nil, other...), http.StatusNotFound, "")
			}},
		}
		for _, s := range steps {
			if !t.Run(s.name, s.run) {
				t.FailNow()
			}
		}
	})
}
