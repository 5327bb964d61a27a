package netmaker_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/api/netmaker"
	"netkeep/internal/mesh/meshsim"
	"netkeep/internal/meshwire"
	"netkeep/internal/server/servertest"
)

// streamClient is a test agent on the WebSocket push stream.
type streamClient struct {
	agent *meshsim.Agent
	conn  *websocket.Conn
	done  chan error // the read loop's end: the close error
}

func dialStream(t *testing.T, e *servertest.Env, path string, headers []string) (*streamClient, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	for i := 0; i+1 < len(headers); i += 2 {
		h.Add(headers[i], headers[i+1])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+path, &websocket.DialOptions{HTTPHeader: h, HTTPClient: e.Client})
	if err != nil {
		return nil, res, err
	}
	c.SetReadLimit(16 << 20)
	sc := &streamClient{agent: meshsim.New(), conn: c, done: make(chan error, 1)}
	go func() {
		for {
			_, msg, err := c.Read(context.Background())
			if err != nil {
				sc.done <- err
				return
			}
			if err := sc.agent.Apply(msg); err != nil {
				sc.done <- err
				return
			}
		}
	}()
	t.Cleanup(func() { c.CloseNow() })
	return sc, res, nil
}

func (c *streamClient) wait(t *testing.T, cond func(a *meshsim.Agent) bool, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.agent.Wait(ctx, cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// closed waits for the server to close the stream and returns the code.
func (c *streamClient) closed(t *testing.T) websocket.StatusCode {
	t.Helper()
	select {
	case err := <-c.done:
		return websocket.CloseStatus(err)
	case <-time.After(5 * time.Second):
		t.Fatal("the stream was not closed")
		return 0
	}
}

func TestStreamAPI(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newMeshWorld(t, e)
		w.network(t, map[string]any{"netid": "live"})
		key := w.key(t, "live", 20)["value"].(string)
		one, two := w.join(t, "live", key, 1), w.join(t, "live", key, 2)
		tok1, tok2 := w.nodeToken(t, "live", 1), w.nodeToken(t, "live", 2)
		path := func(i int) string { return "/api/nodes/live/" + nodeMAC(i) + "/stream" }

		// Refusals are plain HTTP answers in the dialect's envelope.
		for name, c := range map[string]struct {
			path    string
			headers []string
			status  int
		}{
			"no credential":   {path(1), nil, 401},
			"another node":    {path(2), tok1, 403},
			"other group":     {path(1), w.adminB, 404},
			"missing node":    {path(99), w.adminA, 404},
			"bad token":       {path(1), servertest.Bearer("eyJhbGciOiJIUzI1NiJ9.e30.x"), 401},
			"missing network": {"/api/nodes/nope/" + nodeMAC(1) + "/stream", tok1, 403},
		} {
			_, res, err := dialStream(t, e, c.path, c.headers)
			if err == nil || res == nil || res.StatusCode != c.status {
				t.Errorf("%s: %v (%v)", name, res, err)
			}
		}
		if r := e.Do(t, "GET", path(1), nil, tok1...); r.Status != http.StatusUpgradeRequired && r.Status != http.StatusBadRequest {
			t.Errorf("plain GET of the stream: %d %s", r.Status, r.Raw)
		}

		s1, _, err := dialStream(t, e, path(1), tok1)
		if err != nil {
			t.Fatal(err)
		}
		s1.wait(t, func(a *meshsim.Agent) bool { _, ok := a.Peer(int64(two["id"].(float64))); return ok }, "full view")
		if self := s1.agent.Self(); self.MACAddress != nodeMAC(1) || self.Address != one["address"] {
			t.Fatalf("self %+v", self)
		}
		s2, _, err := dialStream(t, e, path(2), tok2)
		if err != nil {
			t.Fatal(err)
		}
		admin, _, err := dialStream(t, e, path(2), w.adminA) // an administrator may watch a node
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []*streamClient{s2, admin} {
			c.wait(t, func(a *meshsim.Agent) bool { return a.Len() == 1 }, "node 2's full view")
		}

		// A join reaches both connected nodes as an upsert.
		three := w.join(t, "live", key, 3)
		id3 := int64(three["id"].(float64))
		for _, c := range []*streamClient{s1, s2, admin} {
			c.wait(t, func(a *meshsim.Agent) bool { p, ok := a.Peer(id3); return ok && p.Address == three["address"] }, "node 3's upsert")
		}
		// A gateway change, then keyupdate.
		if r := e.Do(t, "POST", "/api/nodes/live/"+nodeMAC(3)+"/creategateway", map[string]any{"ranges": []string{"192.168.3.0/24"}}, w.adminA...); r.Status != 200 {
			t.Fatalf("creategateway: %s", r.Raw)
		}
		s1.wait(t, func(a *meshsim.Agent) bool { p, _ := a.Peer(id3); return p.IsEgressGateway && len(p.AllowedIPs) == 2 }, "gateway upsert")
		if r := e.Do(t, "POST", "/api/networks/live/keyupdate", nil, w.adminA...); r.Status != 200 {
			t.Fatalf("keyupdate: %s", r.Raw)
		}
		s2.wait(t, func(a *meshsim.Agent) bool { return a.KeyUpdates() == 1 }, "keyupdate message")
		// Node 2 rotates: everyone else gets its new key.
		newKey := newPubkey(t)
		if r := e.Do(t, "PUT", "/api/nodes/live/"+nodeMAC(2), map[string]any{"publickey": newKey}, tok2...); r.Status != 200 || r.JSON["needkeyupdate"] != false {
			t.Fatalf("rotating: %d %s", r.Status, r.Raw)
		}
		s1.wait(t, func(a *meshsim.Agent) bool { p, _ := a.Peer(int64(two["id"].(float64))); return p.PublicKey == newKey }, "rotated key")

		// Deleting node 3 removes it everywhere, promptly.
		start := time.Now()
		if r := e.Do(t, "DELETE", "/api/nodes/live/"+nodeMAC(3), nil, w.adminA...); r.Status != 200 {
			t.Fatalf("delete: %s", r.Raw)
		}
		for _, c := range []*streamClient{s1, s2, admin} {
			c.wait(t, func(a *meshsim.Agent) bool { _, ok := a.Peer(id3); return !ok }, "node 3's removal")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("removal took %v", d)
		}
		// Deleting node 2 closes its own streams with 4001.
		if r := e.Do(t, "DELETE", "/api/nodes/live/"+nodeMAC(2), nil, w.adminA...); r.Status != 200 {
			t.Fatalf("delete: %s", r.Raw)
		}
		for _, c := range []*streamClient{s2, admin} {
			if code := c.closed(t); code != netmaker.CloseNodeDeleted {
				t.Fatalf("deleted node's stream closed with %d", code)
			}
		}
		s1.wait(t, func(a *meshsim.Agent) bool { return a.Len() == 0 }, "node 2's removal")

		// Server shutdown closes with 1001 going away.
		e.Server.Mesh.Close()
		if code := s1.closed(t); code != websocket.StatusGoingAway {
			t.Fatalf("shutdown closed with %d", code)
		}
	})
}

// TestStreamPendingApproval: a pending node's stream has no peers; approval
// closes it with 4000 so the agent reconnects to its full view.
func TestStreamPendingApproval(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newMeshWorld(t, e)
		w.network(t, map[string]any{"netid": "gate", "requireapproval": "yes"})
		key := w.key(t, "gate", 5)["value"].(string)
		w.join(t, "gate", key, 1)
		if r := e.Do(t, "POST", "/api/nodes/gate/"+nodeMAC(1)+"/approve", nil, w.adminA...); r.Status != 200 {
			t.Fatal(r.Status)
		}
		w.join(t, "gate", key, 2)
		tok1, tok2 := w.nodeToken(t, "gate", 1), w.nodeToken(t, "gate", 2)
		s1, _, err := dialStream(t, e, "/api/nodes/gate/"+nodeMAC(1)+"/stream", tok1)
		if err != nil {
			t.Fatal(err)
		}
		s2, _, err := dialStream(t, e, "/api/nodes/gate/"+nodeMAC(2)+"/stream", tok2)
		if err != nil {
			t.Fatal(err)
		}
		s2.wait(t, func(a *meshsim.Agent) bool { return a.Self().IsPending }, "pending full view")
		s1.wait(t, func(a *meshsim.Agent) bool { return a.Self().MACAddress != "" }, "full view")
		if s1.agent.Len() != 0 || s2.agent.Len() != 0 {
			t.Fatal("a pending node is visible")
		}
		if r := e.Do(t, "POST", "/api/nodes/gate/"+nodeMAC(2)+"/uncordon", nil, w.adminA...); r.Status != 200 {
			t.Fatal(r.Status)
		}
		s1.wait(t, func(a *meshsim.Agent) bool { return a.Len() == 1 }, "approved node appears")
		if code := s2.closed(t); code != netmaker.CloseResync {
			t.Fatalf("approved node's stream closed with %d", code)
		}
		again, _, err := dialStream(t, e, "/api/nodes/gate/"+nodeMAC(2)+"/stream", tok2)
		if err != nil {
			t.Fatal(err)
		}
		again.wait(t, func(a *meshsim.Agent) bool { return a.Len() == 1 && !a.Self().IsPending }, "reconnected full view")
	})
}

// TestStreamResumesWithDigest: a stream opened with the X-Netkeep-View
// digest of the view the agent holds starts with a sync of what changed
// since, not the full view; a malformed digest gets the full view.
func TestStreamResumesWithDigest(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		w := newMeshWorld(t, e)
		w.network(t, map[string]any{"netid": "resume"})
		key := w.key(t, "resume", 20)["value"].(string)
		for i := 1; i <= 5; i++ {
			w.join(t, "resume", key, i)
		}
		three := w.join(t, "resume", key, 6)
		id3 := int64(three["id"].(float64))
		tok1 := w.nodeToken(t, "resume", 1)
		path := "/api/nodes/resume/" + nodeMAC(1) + "/stream"

		s1, _, err := dialStream(t, e, path, tok1)
		if err != nil {
			t.Fatal(err)
		}
		s1.wait(t, func(a *meshsim.Agent) bool { return a.Len() == 5 }, "full view")
		s1.conn.CloseNow()
		held, ok := s1.agent.Digest()
		if !ok {
			t.Fatal("no digest after a full view")
		}
		if r := e.Do(t, "PUT", "/api/nodes/resume/"+nodeMAC(6), map[string]any{"endpoint": "203.0.113.66"}, w.adminA...); r.Status != 200 {
			t.Fatalf("update: %d %s", r.Status, r.Raw)
		}

		first := func(t *testing.T, digest string) *meshwire.Message {
			t.Helper()
			h := http.Header{meshwire.HeaderView: {digest}}
			h.Set(tok1[0], tok1[1])
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+path, &websocket.DialOptions{HTTPHeader: h, HTTPClient: e.Client})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			c.SetReadLimit(16 << 20)
			_, raw, err := c.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var m meshwire.Message
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			return &m
		}
		m := first(t, held.String())
		if m.Type != meshwire.MsgSync || len(m.Buckets) != 1 || m.Buckets[0].Bucket != meshwire.BucketOf(id3) ||
			!slices.Contains(m.Buckets[0].IDs, id3) || len(m.Peers) < 1 || !slices.ContainsFunc(m.Peers, func(p meshwire.Peer) bool { return p.ID == id3 && p.Endpoint == "203.0.113.66" }) {
			t.Fatalf("resumed with %q, buckets %v, %d peers", m.Type, m.Buckets, len(m.Peers))
		}
		if err := s1.agent.ApplyMessage(m); err != nil {
			t.Fatal(err)
		}
		if p, _ := s1.agent.Peer(id3); p.Endpoint != "203.0.113.66" || s1.agent.Len() != 5 || m.Mark == 0 {
			t.Fatalf("after the sync: %d peers, node 6 at %q", s1.agent.Len(), p.Endpoint)
		}
		if m := first(t, "1.not-a-digest"); m.Type != meshwire.MsgFull || len(m.Peers) != 5 {
			t.Fatalf("malformed digest: %q with %d peers", m.Type, len(m.Peers))
		}
	})
}
