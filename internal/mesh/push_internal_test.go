package mesh

import (
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// TestPushSeesChangeBeforeDispatcherRuns: a change appended right after a
// stream is pushed, before the network's new dispatcher goroutine has run,
// still reaches the stream. The dispatcher used to read the log's end when
// it started running: past such a change, so the stream was never told of
// it (an agent reconnecting while the mesh changed kept its old view until
// the next change). One processor makes the order certain: the dispatcher
// goroutine cannot run before this test blocks.
func TestPushSeesChangeBeforeDispatcherRuns(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	n := &Network{ID: 1, NetID: "push", Revision: 1, AddressRange: netip.MustParsePrefix("10.9.0.0/24")}
	st := newNetState(n, 16)
	m := &member{node: &Node{ID: 7, NetworkID: 1, Network: "push", MAC: "02:00:00:00:00:07"}, slot: -1}
	st.members[m.node.ID] = m
	st.mu.Lock()
	s := st.attach(m, nil)
	st.mu.Unlock()
	defer s.Close()

	calls := make(chan struct{}, 16)
	s.Push(func() { calls <- struct{}{} })
	<-calls // Push calls ready once at once, before the change
	changed := *n
	changed.Revision, changed.DisplayName = 2, "renamed"
	st.mu.Lock()
	st.setNetwork(&changed)
	st.unlock()

	select {
	case <-calls:
	case <-time.After(5 * time.Second):
		t.Fatal("a network change was appended after the stream was pushed, and ready was never called again")
	}
	msg, _, err := s.TryNext()
	if err != nil || msg == nil {
		t.Fatalf("after ready: message %q, error %v; want the network change", msg, err)
	}
}
