package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"netkeep/internal/audit"
	"netkeep/internal/config"
	"netkeep/internal/docker/dockertest"
	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
	"netkeep/internal/store/storetest"
)

// bulkResult is one container's result in a bulk answer.
type bulkResult struct {
	ContainerID string `json:"containerId"`
	Name        string `json:"name"`
	Success     bool   `json:"success"`
	Status      string `json:"status"`
	Error       string `json:"error"`
}

// bulk runs POST path and returns its results by container id, checking
// the totals agree with them.
func bulk(tb testing.TB, e *servertest.Env, path, op string) map[string]bulkResult {
	tb.Helper()
	r := e.Do(tb, "POST", path, nil, servertest.Master()...)
	if r.Status != 200 || r.JSON["operation"] != op {
		tb.Fatalf("%s: %d %s", path, r.Status, r.Raw)
	}
	var body struct {
		Results                  []bulkResult `json:"results"`
		Total, Succeeded, Failed int
	}
	if err := json.Unmarshal(r.Raw, &body); err != nil {
		tb.Fatal(err)
	}
	out := map[string]bulkResult{}
	ok := 0
	for _, res := range body.Results {
		if _, dup := out[res.ContainerID]; dup {
			tb.Errorf("%s: two results for %s", path, res.ContainerID)
		}
		out[res.ContainerID] = res
		if res.Success {
			ok++
		}
	}
	if body.Total != len(body.Results) || body.Succeeded != ok || body.Failed != len(body.Results)-ok {
		tb.Errorf("%s: totals %d/%d/%d for %d results", path, body.Total, body.Succeeded, body.Failed, len(body.Results))
	}
	return out
}

// stateOf waits on the stream for the next container.state message of
// container id and returns its state, checking its fields.
func (c *liveClient) stateOf(tb testing.TB, id, name string) string {
	tb.Helper()
	for {
		f := c.next(tb, "container.state", nil)
		var d struct {
			ContainerID, Name, Runtime, Action, State string
			Timestamp                                 int64
		}
		if err := json.Unmarshal(f.Data, &d); err != nil {
			tb.Fatal(err)
		}
		if d.ContainerID != id {
			continue
		}
		if d.Name != name || d.Runtime != "docker" || d.Action == "" || d.Timestamp == 0 {
			tb.Errorf("state message: %s", f.Data)
		}
		return d.State
	}
}

// listedState is the state GET /api/v1/containers shows for container id.
func listedState(tb testing.TB, e *servertest.Env, id string) string {
	tb.Helper()
	r := e.Do(tb, "GET", "/api/v1/containers", nil, servertest.Master()...)
	if r.Status != 200 {
		tb.Fatalf("list: %d %s", r.Status, r.Raw)
	}
	for _, it := range r.Array {
		if m := it.(map[string]any); m["id"] == id {
			return m["state"].(string)
		}
	}
	return "absent"
}

// On an engine of the test's own (start-all and stop-all act on every
// container of the engine, so they must not meet other tests'
// containers): start-all starts exactly the containers not running and
// reports one that cannot start, stop-all stops exactly the running ones,
// restart-all restarts every one; the engine agrees after each, every
// container done has its completion on the stream and an audit entry.
// Then changes made outside netkeep (the docker CLI) reach the stream as
// container.state messages, and the listing, but not a group
// administrator's stream. On each database.
func TestContainerBulkAndOutsideChangesOnOwnEngine(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			d := dockertest.Start(t)
			e := servertest.StartWith(t, kind, func(c *config.Config) { c.DockerHost = d.Host })
			bulkAndOutsideChanges(t, d, e)
		})
	}
}

func bulkAndOutsideChanges(t *testing.T, d *dockertest.Daemon, e *servertest.Env) {
	sleepy := dockertest.RunOptions{Network: "none"}
	up1 := d.Run(t, "bulk-up", sleepy)
	up2 := d.Run(t, "bulk-up", sleepy)
	down := d.Run(t, "bulk-down", dockertest.RunOptions{Network: "none", Created: true})
	broken := d.Run(t, "bulk-broken", dockertest.RunOptions{Network: "none", Created: true, Cmd: []string{"/bin/no-such-command"}})
	all := []*dockertest.Container{up1, up2, down, broken}
	live := openLive(t, e, servertest.MasterKey)

	type want struct {
		success bool
		status  string
	}
	steps := []struct {
		op, path string
		results  map[*dockertest.Container]want // exactly these containers
		after    map[*dockertest.Container]string
	}{
		{"start", "/api/v1/containers/start-all",
			map[*dockertest.Container]want{down: {true, "started"}, broken: {false, "failed"}},
			map[*dockertest.Container]string{up1: "running", up2: "running", down: "running", broken: "created"}},
		{"stop", "/api/v1/containers/stop-all?timeout=1",
			map[*dockertest.Container]want{up1: {true, "stopped"}, up2: {true, "stopped"}, down: {true, "stopped"}},
			map[*dockertest.Container]string{up1: "exited", up2: "exited", down: "exited", broken: "created"}},
		{"restart", "/api/v1/containers/restart-all?timeout=1",
			map[*dockertest.Container]want{up1: {true, "restarted"}, up2: {true, "restarted"}, down: {true, "restarted"}, broken: {false, "failed"}},
			map[*dockertest.Container]string{up1: "running", up2: "running", down: "running", broken: "created"}},
	}
	for _, s := range steps {
		got := bulk(t, e, s.path, s.op)
		if len(got) != len(s.results) {
			t.Errorf("%s: %d results, want %d: %v", s.path, len(got), len(s.results), got)
		}
		for c, w := range s.results {
			r, ok := got[c.ID]
			if !ok || r.Name != c.Name || r.Success != w.success || r.Status != w.status || (r.Error != "") == w.success {
				t.Errorf("%s: %s: %+v, want %+v", s.path, c.Name, r, w)
			}
			if !w.success && !strings.Contains(r.Error, "no-such-command") {
				t.Errorf("%s: the failure does not say why: %q", s.path, r.Error)
			}
		}
		for _, c := range all {
			if st := d.State(t, c.ID); st != s.after[c] {
				t.Errorf("after %s the engine says %s is %s, want %s", s.path, c.Name, st, s.after[c])
			}
		}
		// Every container done has its completion, saying what the result says.
		pending := map[string]want{}
		for c, w := range s.results {
			pending[c.ID] = w
		}
		for len(pending) > 0 {
			var comp struct{ ContainerID, Status, Error string }
			if err := json.Unmarshal(live.next(t, "container."+s.op+".completed", nil).Data, &comp); err != nil {
				t.Fatal(err)
			}
			w, ok := pending[comp.ContainerID]
			if !ok {
				t.Fatalf("%s: a completion for %s, done already or not asked", s.path, comp.ContainerID)
			}
			if comp.Status != w.status || (comp.Error != "") == w.success {
				t.Errorf("%s: completion %+v, want %+v", s.path, comp, w)
			}
			delete(pending, comp.ContainerID)
		}
		entries, err := e.DB.Read().ListAudit(context.Background(), audit.Query{Action: "container." + s.op, Limit: 100})
		if err != nil || len(entries) != len(s.results) {
			t.Errorf("%s: %d audit entries, want %d (%v)", s.path, len(entries), len(s.results), err)
		}
	}

	// A batch answers in the request's order, one result per reference,
	// a reference named twice included, the missing one at its place.
	refs := []string{up2.Name, "containers-nonexistent", up1.ID, up2.Name}
	r := e.Do(t, "POST", "/api/v1/containers/batch", map[string]any{"operation": "stop", "timeout": 1, "containerIds": refs},
		servertest.Master()...)
	var batch struct{ Results []bulkResult }
	if err := json.Unmarshal(r.Raw, &batch); r.Status != 200 || err != nil || len(batch.Results) != len(refs) {
		t.Fatalf("batch: %d %s", r.Status, r.Raw)
	}
	for i, w := range []bulkResult{{up2.Name, up2.Name, true, "stopped", ""}, {"containers-nonexistent", "", false, "not_found", "container not found"},
		{up1.ID, up1.Name, true, "stopped", ""}, {up2.Name, up2.Name, true, "stopped", ""}} {
		if batch.Results[i] != w {
			t.Errorf("batch result %d: %+v, want %+v", i, batch.Results[i], w)
		}
	}
	for _, c := range []*dockertest.Container{up1, up2} {
		if st := d.State(t, c.ID); st != "exited" {
			t.Errorf("after the batch the engine says %s is %s", c.Name, st)
		}
	}

	// Changes made with the docker CLI, not through netkeep.
	e.CreateUser(t, "state-admin", "password1", identity.GroupAdmin, "default")
	admin, _ := e.Login(t, "state-admin", "password1")
	other := openLive(t, e, admin)
	outside := d.Run(t, "outside", sleepy)
	for _, w := range []string{"created", "running"} {
		if got := live.stateOf(t, outside.ID, outside.Name); got != w {
			t.Errorf("docker run: state %s, want %s", got, w)
		}
	}
	changes := []struct {
		args   []string
		states []string // the messages, in order
		listed string
	}{
		{[]string{"stop", "-t", "1", outside.ID}, []string{"exited"}, "exited"},
		{[]string{"start", outside.ID}, []string{"running"}, "running"},
		{[]string{"rm", "-f", outside.ID}, []string{"exited", "removed"}, "absent"},
	}
	for _, c := range changes {
		d.Docker(t, c.args...)
		for _, w := range c.states {
			if got := live.stateOf(t, outside.ID, outside.Name); got != w {
				t.Errorf("docker %s: state %s, want %s", c.args[0], got, w)
			}
		}
		if got := listedState(t, e, outside.ID); got != c.listed {
			t.Errorf("after docker %s the listing says %s, want %s", c.args[0], got, c.listed)
		}
	}
	// The group administrator's socket heard none of it: the answer to a
	// ping sent now comes with no container message before it.
	other.send(t, "ping", nil)
	other.next(t, "pong", func(f liveFrame) bool { return strings.HasPrefix(f.Type, "container.") })
}
