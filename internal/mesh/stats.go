package mesh

import (
	"sync/atomic"
	"time"
)

// Stats are the state's size and how long applying changes to it took on
// this replica (the store transaction not included): for metrics and the
// scale benchmarks.
type Stats struct {
	Networks, Nodes, Peers, Streams int
	Applied                         uint64        // node and network changes applied
	ApplyTotal, ApplyMax            time.Duration // time under the network's lock, fan-out included
}

// applyClock accumulates apply durations.
type applyClock struct {
	count, total, most atomic.Int64
}

func (c *applyClock) observe(d time.Duration) {
	c.count.Add(1)
	c.total.Add(int64(d))
	for {
		m := c.most.Load()
		if int64(d) <= m || c.most.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// Stats reports the state's size and apply times so far.
func (s *Service) Stats() Stats {
	out := Stats{
		Applied:    uint64(s.applied.count.Load()),
		ApplyTotal: time.Duration(s.applied.total.Load()),
		ApplyMax:   time.Duration(s.applied.most.Load()),
	}
	for _, st := range s.states() {
		st.mu.RLock()
		out.Networks++
		out.Nodes += len(st.members)
		out.Peers += len(st.active)
		out.Streams += len(st.streams)
		st.mu.RUnlock()
	}
	return out
}
