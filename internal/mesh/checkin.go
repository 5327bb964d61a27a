package mesh

import (
	"context"
	"fmt"
	"sync"
	"time"

	"netkeep/internal/authz"
)

// checkins buffers check-in times until Run writes them, so thousands of
// agents checking in every few seconds cost one transaction per interval
// rather than one each.
type checkins struct {
	mu   sync.Mutex
	seen map[int64]time.Time
}

func (c *checkins) record(id int64, at time.Time) {
	c.mu.Lock()
	if c.seen == nil {
		c.seen = map[int64]time.Time{}
	}
	if at.After(c.seen[id]) {
		c.seen[id] = at
	}
	c.mu.Unlock()
}

func (c *checkins) take() map[int64]time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.seen
	c.seen = nil
	return out
}

// restore puts back times whose write failed, unless newer ones came since.
func (c *checkins) restore(seen map[int64]time.Time) {
	for id, at := range seen {
		c.record(id, at)
	}
}

// CheckIn records that a node is alive and returns it (with needkeyupdate
// telling an agent without a stream to rotate its key). A node credential
// may check in only itself. Errors: as GetNode.
func (s *Service) CheckIn(ctx context.Context, p *authz.Principal, netid, mac string) (*Node, *Network, error) {
	st, m, err := s.lookup(p, actNodesWrite, netid, mac)
	if err != nil {
		return nil, nil, err
	}
	s.seen(m)
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.nodeView(m), st.network(), nil
}

// seen records a sign of life of m's node now.
func (s *Service) seen(m *member) {
	now := s.now().UTC()
	m.lastSeen.Store(now.UnixNano())
	s.checkins.record(m.node.ID, now.Truncate(time.Microsecond))
}

// FlushCheckIns writes the buffered check-in times in one transaction; on
// failure they are kept for the next flush.
func (s *Service) FlushCheckIns(ctx context.Context) error {
	seen := s.checkins.take()
	if len(seen) == 0 {
		return nil
	}
	if err := s.store.InTx(ctx, func(tx Tx) error { return tx.TouchNodes(ctx, seen) }); err != nil {
		s.checkins.restore(seen)
		return fmt.Errorf("recording node check-ins: %w", err)
	}
	return nil
}

// Run flushes check-ins every flush interval until ctx ends, then once more.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.flushDur)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			return s.FlushCheckIns(fctx)
		case <-t.C:
			if err := s.FlushCheckIns(ctx); err != nil {
				s.log.Warn("flushing node check-ins", "error", err)
			}
		}
	}
}
