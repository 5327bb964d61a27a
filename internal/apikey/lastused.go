package apikey

import (
	"context"
	"fmt"
	"time"
)

// FlushLastUsed writes the last-use times recorded by Authenticate since the
// previous flush, in one transaction. Uses whose write fails are kept for the
// next flush.
func (s *Service) FlushLastUsed(ctx context.Context) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	uses := s.cache.unflushed()
	if len(uses) == 0 {
		return nil
	}
	batch := make(map[string]time.Time, len(uses))
	for _, u := range uses {
		if t := time.Unix(0, u.at).UTC(); t.After(batch[u.id]) {
			batch[u.id] = t
		}
	}
	err := s.store.InTx(ctx, func(tx Tx) error { return tx.TouchAPIKeys(ctx, batch) })
	if err != nil {
		s.cache.restore(uses)
		return fmt.Errorf("recording API key use: %w", err)
	}
	for _, u := range uses {
		if u.e != nil {
			u.e.markFlushed(u.at)
		}
	}
	return nil
}

// Run flushes last-use times every flush interval until ctx ends, then once
// more (bounded by flushTimeout) and returns that flush's error. Failures of
// periodic flushes are logged and retried on the next tick.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.flushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
			err := s.FlushLastUsed(fctx)
			cancel()
			return err
		case <-t.C:
			if err := s.FlushLastUsed(ctx); err != nil {
				s.log.Warn("flushing API key last-use times", "error", err)
			}
		}
	}
}

// flushTimeout bounds the final flush at shutdown.
const flushTimeout = 10 * time.Second

// overlayLastUsed shows k the newest use this replica knows but has not
// written yet.
func (s *Service) overlayLastUsed(k *Key) {
	u := s.cache.lastUsed(k.ID)
	if u == 0 {
		return
	}
	if t := time.Unix(0, u).UTC().Truncate(time.Microsecond); k.LastUsedAt == nil || t.After(*k.LastUsedAt) {
		k.LastUsedAt = &t
	}
}
