package psk

import (
	"context"
	"time"

	"netkeep/internal/audit"
)

// sweepBatch is how many expired PSKs one sweep transaction reports.
const sweepBatch = 500

// SweepExpired reports every PSK whose expiry instant has passed and that
// was not reported yet: one psk.expired audit entry (actor "system") and one
// "psk"/"expired" event each, exactly once even with several replicas
// sweeping. Changing a PSK's expiry re-arms it. It returns how many PSKs it
// reported.
//
// The sweep only reports: a PSK stops authenticating at its expiry instant
// whether or not it was swept (see PSK.Usable).
func (s *Service) SweepExpired(ctx context.Context) (int, error) {
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	total := 0
	for {
		var swept []*PSK
		err := s.store.InTx(ctx, func(tx Tx) error {
			var err error
			if swept, err = tx.MarkExpired(ctx, s.stamp(), sweepBatch); err != nil {
				return err
			}
			for _, p := range swept {
				if err := audit.Record(ctx, tx, audit.Source{Actor: "system"}, p.GroupID, "psk.expired", pskTarget(p.ID),
					map[string]any{"psk_id": p.PSKID, "expires": p.Expires}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		for _, p := range swept {
			s.publishPSK(ctx, ActionExpired, p)
		}
		total += len(swept)
		if len(swept) < sweepBatch {
			return total, nil
		}
	}
}

// Run sweeps expired PSKs and settles imports left behind (SweepImports)
// every sweep interval (and once at start) until ctx ends. Failures are
// logged and retried on the next tick.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.sweepEvery)
	defer t.Stop()
	for {
		if _, err := s.SweepExpired(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("sweeping expired PSKs", "error", err)
		}
		if _, err := s.SweepImports(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("settling imports left behind", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
