package psk

import (
	"context"
	"fmt"
	"time"

	"netkeep/internal/audit"
)

// ImportStaleAfter is how long a pending import may go untouched before the
// sweep takes it for dead (its process crashed or lost its database) and
// deletes its rows, which until then keep their psk_ids and MACs taken.
// An import touches its row with every batch of rows it writes, and the
// transports bound an upload's time (the NetKey API to 10 minutes by
// default), so a live import is never that old.
const ImportStaleAfter = 15 * time.Minute

// settleBatch is how many rows one transaction of settleImport changes.
const settleBatch = 2000

// stageRows is how many checked rows a pending import holds before one
// transaction writes them: ten checked batches, so that each transaction's
// fixed cost (its commit, preparing its statements, the WAL pages its
// indexes share) is spread over more rows while it still holds the
// writer for only tens of milliseconds.
const stageRows = 10 * importBatch

// stageEvery is the longest a pending import holds checked rows unwritten,
// so that a slow upload still touches its import well within
// ImportStaleAfter.
const stageEvery = time.Minute

// check checks the batch read against the stored PSKs and endpoints (read,
// no write transaction) and the upload's earlier rows, then holds it or,
// once the import is larger than maxItemEvents objects and stageRows rows
// are held (or stageEvery passed since the last write), writes them
// pending.
// A row's error is placed at its line; of several bad rows the first line
// wins.
func (im *importer) check(ctx context.Context) error {
	if len(im.batch) == 0 {
		return nil
	}
	if im.rows+len(im.batch) > MaxImportRows {
		return atLine(invalid("csv", fmt.Sprintf("an import holds at most %d rows", MaxImportRows)), im.batch[0].line)
	}
	rows := make([]*Row, len(im.batch))
	generated := make([]bool, len(im.batch))
	macs := make([][]string, len(im.batch))
	objects := 0
	for i, b := range im.batch {
		rows[i], generated[i], macs[i] = b.row, b.generated, b.macs
		objects += 1 + len(b.macs)
	}
	tx := im.s.store.Read()
	ni, nerr := claimNames(ctx, tx, im.group, rows, generated, im.names)
	if nerr != nil && ni < 0 {
		return nerr
	}
	mi, merr := claimMACs(ctx, tx, im.group, macs, im.macs)
	if merr != nil && mi < 0 {
		return merr
	}
	switch {
	case nerr != nil && (merr == nil || ni <= mi):
		return atLine(nerr, im.batch[ni].line)
	case merr != nil:
		return atLine(merr, im.batch[mi].line)
	}
	im.rows += len(im.batch)
	im.objects += objects
	im.held = append(im.held, im.batch...)
	im.batch = im.batch[:0]
	if im.objects > maxItemEvents && (len(im.held) >= stageRows || im.s.now().Sub(im.staged) >= stageEvery) {
		return im.stage(ctx)
	}
	return nil
}

// holder is a Store that can keep a write transaction open across calls
// without stopping other writers (store.Bound on PostgreSQL).
type holder interface {
	Holds() bool
	Hold(ctx context.Context) (Tx, func(error) error, error)
}

// stage writes the held rows. Where the store can hold a transaction open
// (PostgreSQL), they go in as they are into the import's one transaction,
// begun by the first call and ended by promote or Import: nothing to make
// visible or settle afterwards, and a failure or a crash leaves nothing
// behind. Elsewhere (SQLite, whose one writer must not wait for an
// upload) they go pending in one short transaction, beginning the pending
// import first if needed.
func (im *importer) stage(ctx context.Context) error {
	staged := make([]StagedRow, len(im.held))
	for i, h := range im.held {
		staged[i] = StagedRow{Row: h.row, MACs: h.macs}
	}
	write := im.stagePending
	if h, ok := im.s.store.(holder); ok && h.Holds() {
		write = func(ctx context.Context, staged []StagedRow) error { return im.stageHeld(ctx, h, staged) }
	}
	if err := write(ctx, staged); err != nil {
		return err
	}
	im.held = im.held[:0]
	im.staged = im.s.now()
	return nil
}

// stageHeld writes staged into the import's held transaction, beginning it
// first if needed, and counts what it wrote for the audit entry.
func (im *importer) stageHeld(ctx context.Context, h holder, staged []StagedRow) error {
	if im.open == nil {
		tx, end, err := h.Hold(ctx)
		if err != nil {
			return fmt.Errorf("beginning the import's transaction: %w", err)
		}
		im.open, im.end = tx, end
	}
	eps, err := im.open.InsertImported(ctx, staged)
	if err != nil {
		return err
	}
	for _, r := range staged {
		if im.written == 0 {
			im.firstID, im.lastID = r.Row.ID, r.Row.ID
		}
		im.firstID, im.lastID = min(im.firstID, r.Row.ID), max(im.lastID, r.Row.ID)
		im.written++
	}
	im.writtenEPs += eps
	return nil
}

// stagePending writes staged pending in one short transaction, beginning
// the pending import first if needed.
func (im *importer) stagePending(ctx context.Context, staged []StagedRow) error {
	if im.stageID == 0 {
		err := im.s.store.InTx(ctx, func(tx Tx) error {
			var err error
			im.stageID, err = tx.BeginImport(ctx, im.group, im.s.stamp())
			return err
		})
		if err != nil {
			return fmt.Errorf("beginning a pending import: %w", err)
		}
	}
	return im.s.store.InTx(ctx, func(tx Tx) error { return tx.StageImport(ctx, im.stageID, staged, im.s.stamp()) })
}

// write stores a held (small) import in one transaction and announces
// each object.
func (im *importer) write(ctx context.Context, src audit.Source) (*ImportResult, error) {
	rows := make([]*Row, len(im.held))
	for i, h := range im.held {
		rows[i] = h.row
	}
	var es []*Endpoint
	err := im.s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertPSKs(ctx, rows); err != nil {
			return insertConflict(err)
		}
		es = es[:0]
		at := im.s.stamp()
		for _, h := range im.held {
			for _, mac := range h.macs {
				es = append(es, &Endpoint{GroupID: im.group, MAC: mac, PSKID: h.row.ID, Enabled: true, CreatedAt: at, UpdatedAt: at})
			}
		}
		if len(es) > 0 {
			if err := tx.InsertEndpoints(ctx, es); err != nil {
				return endpointConflict(err)
			}
		}
		return im.audit(ctx, tx, src, len(rows), len(es), rows[0].ID, rows[len(rows)-1].ID)
	})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		p := r.PSK
		im.s.publishPSK(ctx, ActionCreated, &p)
	}
	for _, e := range es {
		im.s.publishEndpoint(ctx, ActionCreated, e)
	}
	return &ImportResult{PSKs: len(rows), Endpoints: len(es)}, nil
}

// promote writes the last rows and makes the whole import visible: the
// commit of its held transaction, or one transaction of constant cost for
// a pending import; one reload event announces it.
func (im *importer) promote(ctx context.Context, src audit.Source) (*ImportResult, error) {
	if len(im.held) > 0 {
		if err := im.stage(ctx); err != nil {
			return nil, err
		}
	}
	if im.open != nil {
		err := im.open.CountImported(ctx, im.group, im.written)
		if err == nil {
			err = im.audit(ctx, im.open, src, im.written, im.writtenEPs, im.firstID, im.lastID)
		}
		end := im.end
		im.open, im.end = nil, nil
		if err = end(err); err != nil {
			return nil, err
		}
		im.s.publish(ctx, TopicPSK, ActionReload, im.group, 0, nil)
		return &ImportResult{PSKs: im.written, Endpoints: im.writtenEPs}, nil
	}
	var done *Promoted
	err := im.s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if done, err = tx.PromoteImport(ctx, im.stageID, im.s.stamp()); err != nil {
			return err
		}
		return im.audit(ctx, tx, src, done.PSKs, done.Endpoints, done.FirstID, done.LastID)
	})
	if err != nil {
		return nil, err
	}
	im.s.publish(ctx, TopicPSK, ActionReload, im.group, 0, nil)
	return &ImportResult{PSKs: done.PSKs, Endpoints: done.Endpoints}, nil
}

func (im *importer) audit(ctx context.Context, tx Tx, src audit.Source, psks, endpoints int, firstID, lastID int64) error {
	return audit.Record(ctx, tx, src, im.group, "psk.import", fmt.Sprintf("group:%d", im.group), map[string]any{
		"psks": psks, "endpoints": endpoints, "first_id": firstID, "last_id": lastID,
	})
}

// settleImport finishes import id, a few thousand rows per transaction so
// that none holds the writer long: a visible import's rows lose their
// pending mark, a hidden one's are deleted.
func (s *Service) settleImport(ctx context.Context, id int64) error {
	for more := true; more; {
		err := s.store.InTx(ctx, func(tx Tx) error {
			var err error
			more, err = tx.SettleImport(ctx, id, settleBatch)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// SweepImports settles what imports left behind: visible imports whose
// process died before clearing their rows' pending mark, and the rows of
// imports that never became visible and were untouched for
// ImportStaleAfter (their process died). Run calls it; it returns how many
// imports it settled.
func (s *Service) SweepImports(ctx context.Context) (int, error) {
	ids, err := s.store.Read().ImportsToSettle(ctx, s.now().Add(-ImportStaleAfter))
	if err != nil {
		return 0, err
	}
	for i, id := range ids {
		if err := s.settleImport(ctx, id); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}
