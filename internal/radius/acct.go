package radius

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"netkeep/internal/radius/nas"
)

// Acct-Status-Type values (RFC 2866, 3580).
const (
	acctStart   = 1
	acctStop    = 2
	acctInterim = 3
	acctOn      = 7
	acctOff     = 8
)

// accounting records the request and answers Accounting-Response.
func (w *worker) accounting(c *Client, now time.Time) []byte {
	r := &w.req
	mac, hasMAC := r.station()
	if hasMAC {
		w.s.dir.Seen(c.GroupID, mac, now.Unix())
	}
	switch r.statusType {
	case acctOn, acctOff:
		w.s.sessions.reset(c.ID)
	case acctStart, acctInterim, acctStop:
		if len(r.sessionID) == 0 {
			break
		}
		sess := nas.Session{
			GroupID: c.GroupID, ClientID: c.ID, SessionID: string(r.sessionID),
			Username: string(r.userName), CalledStation: string(r.called),
			UpdatedAt:   now.UTC(),
			StartedAt:   now.UTC().Add(-time.Duration(r.sessionTime) * time.Second),
			InputOctets: int64(r.inGiga<<32 | r.inOctets), OutputOctets: int64(r.outGiga<<32 | r.outOctets),
			SessionTime: int64(r.sessionTime),
		}
		if hasMAC {
			sess.MAC = mac.String()
		}
		if a, ok := netip.AddrFromSlice(r.nasIP); ok {
			sess.NASAddress = a.String()
		} else {
			sess.NASAddress = string(r.nasID)
		}
		if a, ok := netip.AddrFromSlice(r.framedIP); ok {
			sess.FramedIP = a.String()
		}
		if r.statusType == acctStop {
			w.s.sessions.stop(nas.SessionKey{ClientID: c.ID, SessionID: sess.SessionID})
		} else {
			w.s.sessions.upsert(sess)
		}
	}
	w.rep.start(w.out[:], codeAccountingResponse, r.id)
	return w.finish(c)
}

// sessionBuffer batches accounting so the database sees one transaction a
// second, not one per packet.
type sessionBuffer struct {
	to    Accounting
	every time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	resets  map[int64]bool
	stops   map[nas.SessionKey]bool
	upserts map[nas.SessionKey]nas.Session
}

func newSessionBuffer(to Accounting, every time.Duration, log *slog.Logger) *sessionBuffer {
	if every <= 0 {
		every = time.Second
	}
	return &sessionBuffer{to: to, every: every, log: log, resets: map[int64]bool{},
		stops: map[nas.SessionKey]bool{}, upserts: map[nas.SessionKey]nas.Session{}}
}

func (b *sessionBuffer) reset(client int64) {
	if b.to == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.resets[client] = true
	for k := range b.upserts {
		if k.ClientID == client {
			delete(b.upserts, k)
		}
	}
	for k := range b.stops {
		if k.ClientID == client {
			delete(b.stops, k)
		}
	}
}

func (b *sessionBuffer) stop(k nas.SessionKey) {
	if b.to == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.upserts, k)
	b.stops[k] = true
}

func (b *sessionBuffer) upsert(s nas.Session) {
	if b.to == nil {
		return
	}
	k := nas.SessionKey{ClientID: s.ClientID, SessionID: s.SessionID}
	b.mu.Lock()
	defer b.mu.Unlock()
	if prev, ok := b.upserts[k]; ok && prev.StartedAt.Before(s.StartedAt) {
		s.StartedAt = prev.StartedAt
	}
	delete(b.stops, k)
	b.upserts[k] = s
}

func (b *sessionBuffer) take() nas.SessionBatch {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out nas.SessionBatch
	for c := range b.resets {
		out.Resets = append(out.Resets, c)
	}
	for k := range b.stops {
		out.Stops = append(out.Stops, k)
	}
	for _, s := range b.upserts {
		out.Upserts = append(out.Upserts, s)
	}
	clear(b.resets)
	clear(b.stops)
	clear(b.upserts)
	return out
}

// run flushes every interval until ctx ends, then once more.
func (b *sessionBuffer) run(ctx context.Context) {
	if b.to == nil {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(b.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			b.flush(fctx)
			cancel()
			return
		case <-t.C:
			b.flush(ctx)
		}
	}
}

func (b *sessionBuffer) flush(ctx context.Context) {
	batch := b.take()
	if batch.Empty() {
		return
	}
	if err := b.to.ApplySessions(ctx, batch); err != nil {
		b.log.Warn("recording RADIUS accounting; the batch is lost", "sessions", len(batch.Upserts), "error", err)
	}
}
