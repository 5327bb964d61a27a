package radius

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/radius/nas"
	"netkeep/internal/radius/wpa"
)

func newCredential(p PSK) *Credential {
	c := credentialOf(p)
	return &c
}

func credentialOf(p PSK) Credential {
	c := Credential{PSKID: p.ID, GroupID: p.GroupID, Passphrase: p.Passphrase,
		VLAN: uint16(p.VLAN), Enabled: p.Enabled}
	if !p.ExpiresAt.IsZero() {
		c.Expires = unixSeconds32(p.ExpiresAt)
	}
	if len(p.Passphrase) == 64 {
		if _, err := wpa.PMK(p.Passphrase, []byte("x")); err == nil {
			c.hexKey = true
		}
	}
	return c
}

// credentialLoader builds the credentials of a snapshot as it streams by,
// in two allocations at the end: one array of credentials and one string
// holding every passphrase, which each credential's Passphrase is a
// substring of (the PSK's own strings, from the database row, are not
// kept). Allocated one by one while the snapshot streams, they would be
// scattered among its garbage and keep its memory pages resident. A
// credential replaced later (applyPSK) is allocated on its own, so the two
// blocks live at most until the next full reload.
type credentialLoader struct {
	creds []Credential
	pass  []byte
	ends  []int
}

func (l *credentialLoader) add(p PSK) {
	c := credentialOf(p)
	c.Passphrase = ""
	l.creds = append(l.creds, c)
	l.pass = append(l.pass, p.Passphrase...)
	l.ends = append(l.ends, len(l.pass))
}

// done returns the credentials, each with its passphrase.
func (l *credentialLoader) done() []Credential {
	all := string(l.pass)
	creds := slices.Clone(l.creds) // exactly sized; the grown one is garbage
	start := 0
	for i := range creds {
		creds[i].Passphrase = all[start:l.ends[i]]
		start = l.ends[i]
	}
	l.pass, l.ends, l.creds = nil, nil, nil
	return creds
}

// endpointLoader builds the endpoint shards of a snapshot as it streams
// by: each station's 32-byte record goes straight into its shard's
// records, its key beside it, and each shard's map is made at the end at
// its final size. Holding the snapshot's endpoints as they come (72 bytes
// each, in one slice grown by doubling) cost a million-station reload
// about 150 MiB more at its peak, which the collector's heap goal then
// doubled.
type endpointLoader struct {
	recs [shardCount][]endpointEntry
	keys [shardCount][]epKey
	max  int64
}

func (l *endpointLoader) add(x *Index, e Endpoint) {
	k := epKey{e.GroupID, e.MAC}
	i := x.epIndex(k)
	l.recs[i] = append(l.recs[i], newEndpointEntry(e))
	l.keys[i] = append(l.keys[i], k)
	l.max = max(l.max, e.ID)
}

// done returns the shards, how many stations they hold and the largest
// endpoint id. A station streamed twice keeps its later record; the
// earlier slot is left free, as removeLocked leaves it.
func (l *endpointLoader) done() (shards []epShard, n int, maxID int64) {
	shards = make([]epShard, shardCount)
	for i := range shards {
		s := &shards[i]
		s.recs = slices.Clip(l.recs[i])
		s.m = make(map[epKey]uint32, len(l.keys[i]))
		for j, k := range l.keys[i] {
			if old, ok := s.m[k]; ok {
				s.recs[old] = endpointEntry{}
				s.free = append(s.free, old)
				n--
			}
			s.m[k] = uint32(j)
			n++
		}
		l.recs[i], l.keys[i] = nil, nil
	}
	return shards, n, l.max
}

// reload replaces everything with what the sources hold now. The
// snapshot it was built from is garbage afterwards, and for a large
// directory several times the directory's size (with an import's garbage
// often beside it): it is given back to the OS at once rather than when
// the scavenger gets to it, which returns memory only down to the
// collector's heap goal, twice the live heap.
func (x *Index) reload(ctx context.Context) error {
	if err := x.loadAll(ctx); err != nil {
		return err
	}
	if x.endpoints.Load()+x.psks.Load() >= bulkFlush {
		debug.FreeOSMemory()
	}
	return nil
}

// loadAll is reload without returning memory.
func (x *Index) loadAll(ctx context.Context) error {
	if err := x.reloadClients(ctx); err != nil {
		return err
	}
	if x.src == nil {
		return nil
	}
	x.bindMu.Lock()
	defer x.bindMu.Unlock()
	var cl credentialLoader
	var el endpointLoader
	err := x.src.Snapshot(ctx,
		func(p PSK) error { cl.add(p); return nil },
		func(e Endpoint) error { el.add(x, e); return nil })
	if err != nil {
		return fmt.Errorf("loading PSKs and endpoints: %w", err)
	}
	creds := cl.done()
	var credMaps [shardCount]map[int64]*Credential
	for i := range credMaps {
		credMaps[i] = make(map[int64]*Credential, len(creds)/shardCount)
	}
	for i := range creds {
		c := &creds[i]
		credMaps[x.credIndex(c.PSKID)][c.PSKID] = c
	}
	shards, loaded, maxID := el.done()
	// Swap shard by shard, keeping last-seen times and in-flight
	// auto-enrolments.
	kept := 0
	for i := range x.creds {
		s := &x.creds[i]
		s.mu.Lock()
		s.m = credMaps[i]
		s.mu.Unlock()
	}
	for i := range x.eps {
		s, n := &x.eps[i], &shards[i]
		s.mu.Lock()
		for k, slot := range s.m {
			old := &s.recs[slot]
			if r, ok := n.getLocked(k); ok {
				r.seen, r.flushed = max(r.seen, old.seen), max(r.flushed, old.flushed)
			} else if old.id == 0 {
				n.putLocked(k, *old)
				kept++
			}
		}
		s.m, s.recs, s.free = n.m, n.recs, n.free
		s.mu.Unlock()
	}
	x.psks.Store(int64(len(creds)))
	x.endpoints.Store(int64(loaded + kept))
	x.mu.Lock()
	x.maxEpID = max(x.maxEpID, maxID)
	x.mu.Unlock()
	x.syncKeys(ctx)
	return nil
}

func (x *Index) credIndex(id int64) int { return int(uint64(id) * 0x9E3779B97F4A7C15 >> 58) }

func (x *Index) epIndex(k epKey) int {
	h := (uint64(k.mac) ^ uint64(k.group)<<48 ^ uint64(k.group)) * 0x9E3779B97F4A7C15
	return int(h >> 58)
}

// reloadClients rebuilds the client table and the SSIDs each group serves.
func (x *Index) reloadClients(ctx context.Context) error {
	if x.clients == nil {
		return nil
	}
	cs, err := x.clients.All(ctx)
	if err != nil {
		return fmt.Errorf("loading RADIUS clients: %w", err)
	}
	x.table.Store(newClientTable(cs))
	ssids := map[int64][]string{}
	for _, c := range cs {
		for _, s := range c.SSIDs {
			if !slices.Contains(ssids[c.GroupID], s) {
				ssids[c.GroupID] = append(ssids[c.GroupID], s)
			}
		}
	}
	x.mu.Lock()
	changed := !mapsEqual(x.groupSSIDs, ssids)
	x.groupSSIDs = ssids
	x.mu.Unlock()
	if changed && x.loaded.Load() {
		x.syncKeys(ctx)
	}
	return nil
}

func mapsEqual(a, b map[int64][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// syncKeys makes the PMKs match the credentials and the groups' SSIDs:
// drops keys of PSKs or SSIDs that are gone or changed, restores stored
// PMKs that are still valid, and queues the rest for derivation.
func (x *Index) syncKeys(ctx context.Context) {
	creds := x.allCreds()
	x.mu.Lock()
	want := map[keyID]*Credential{}
	for _, c := range creds {
		for _, s := range x.groupSSIDs[c.GroupID] {
			want[keyID{c.PSKID, s}] = c
		}
	}
	for id, e := range x.keys {
		switch cur := x.cred(id.psk); {
		case cur == nil || cur.Passphrase != e.passphrase:
			delete(x.keys, id)
			x.dropCandidateLocked(cur, id)
		case want[id] == nil:
			// No client serves the SSID any more.
			delete(x.keys, id)
			x.dropCandidateLocked(cur, id)
		}
	}
	var missing []keyID
	for id, c := range want {
		if e := x.keys[id]; e != nil && e.passphrase == c.Passphrase {
			x.addCandidateLocked(c, id.ssid, e.key)
			continue
		}
		missing = append(missing, id)
	}
	x.mu.Unlock()
	if len(missing) == 0 {
		return
	}
	if x.pmks != nil && x.seal != nil {
		missing = x.restoreStored(ctx, want, missing)
	}
	for _, id := range missing {
		x.pmkq.push(id, want[id].GroupID)
	}
}

// restoreStored installs stored PMKs still derived from the current
// passphrase and returns the ids still missing.
func (x *Index) restoreStored(ctx context.Context, want map[keyID]*Credential, missing []keyID) []keyID {
	stored, err := x.pmks.Read().RadiusPMKs(ctx)
	if err != nil {
		x.log.Warn("loading stored PMKs; deriving them again", "error", err)
		return missing
	}
	restored := map[keyID]bool{}
	for _, sp := range stored {
		id := keyID{sp.PSKID, sp.SSID}
		c := want[id]
		if c == nil {
			continue
		}
		if pmk, ok := openPMK(x.seal, sp, c); ok {
			x.installKey(c, sp.SSID, wpa.NewKey(pmk))
			restored[id] = true
		}
	}
	out := missing[:0]
	for _, id := range missing {
		if !restored[id] {
			out = append(out, id)
		}
	}
	return out
}

func (x *Index) allCreds() []*Credential {
	var out []*Credential
	for i := range x.creds {
		s := &x.creds[i]
		s.mu.RLock()
		for _, c := range s.m {
			out = append(out, c)
		}
		s.mu.RUnlock()
	}
	return out
}

// installKey records k as c's PMK on ssid and makes it a candidate when a
// client of c's group serves ssid.
func (x *Index) installKey(c *Credential, ssid string, k *wpa.Key) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if cur := x.cred(c.PSKID); cur == nil || cur.Passphrase != c.Passphrase {
		return // changed meanwhile; the change queued a fresh derivation
	}
	x.keys[keyID{c.PSKID, ssid}] = &keyEntry{key: k, passphrase: c.Passphrase}
	if slices.Contains(x.groupSSIDs[c.GroupID], ssid) {
		x.addCandidateLocked(x.cred(c.PSKID), ssid, k)
	}
}

func (x *Index) addCandidateLocked(c *Credential, ssid string, k *wpa.Key) {
	bid := bucketID{c.GroupID, ssid}
	x.bucketsMu.Lock()
	b := x.buckets[bid]
	if b == nil {
		b = &bucket{set: map[int64]candidate{}}
		x.buckets[bid] = b
	}
	x.bucketsMu.Unlock()
	b.mu.Lock()
	cand := candidate{cred: c, key: k}
	if _, ok := b.set[c.PSKID]; ok {
		b.rebuild = true
	} else {
		b.added = append(b.added, cand)
	}
	b.set[c.PSKID] = cand
	b.list.Store(nil)
	b.mu.Unlock()
}

// dropCandidateLocked removes the PSK's candidate on id.ssid from every
// group (a PSK may have moved groups).
func (x *Index) dropCandidateLocked(_ *Credential, id keyID) {
	x.bucketsMu.RLock()
	defer x.bucketsMu.RUnlock()
	for bid, b := range x.buckets {
		if bid.ssid != id.ssid {
			continue
		}
		b.mu.Lock()
		if _, ok := b.set[id.psk]; ok {
			delete(b.set, id.psk)
			b.rebuild = true
			b.list.Store(nil)
		}
		b.mu.Unlock()
	}
}

// applyPSK reloads one PSK after its event.
func (x *Index) applyPSK(ctx context.Context, id int64) error {
	p, err := x.src.PSK(ctx, id)
	s := x.credShard(id)
	if fault.Is(err, fault.NotFound) {
		s.mu.Lock()
		if _, ok := s.m[id]; ok {
			delete(s.m, id)
			x.psks.Add(-1)
		}
		s.mu.Unlock()
		x.mu.Lock()
		for kid := range x.keys {
			if kid.psk == id {
				delete(x.keys, kid)
				x.dropCandidateLocked(nil, kid)
			}
		}
		x.mu.Unlock()
		if x.pmks != nil {
			if err := x.pmks.InTx(ctx, func(tx PMKTx) error { return tx.DeleteRadiusPMKs(ctx, id) }); err != nil {
				x.log.Warn("deleting stored PMKs of a deleted PSK", "psk", id, "error", err)
			}
		}
		return nil
	}
	if err != nil {
		return err
	}
	c := newCredential(p)
	s.mu.Lock()
	old := s.m[id]
	s.m[id] = c
	if old == nil {
		x.psks.Add(1)
	}
	s.mu.Unlock()
	x.mu.Lock()
	// Candidates hold the credential they were built with: refresh them
	// (the passphrase check below drops keys that no longer apply).
	for kid, e := range x.keys {
		if kid.psk != id {
			continue
		}
		x.dropCandidateLocked(nil, kid)
		if e.passphrase != c.Passphrase {
			delete(x.keys, kid)
		} else if slices.Contains(x.groupSSIDs[c.GroupID], kid.ssid) {
			x.addCandidateLocked(c, kid.ssid, e.key)
		}
	}
	var missing []keyID
	for _, ssid := range x.groupSSIDs[c.GroupID] {
		if x.keys[keyID{id, ssid}] == nil {
			missing = append(missing, keyID{id, ssid})
		}
	}
	x.mu.Unlock()
	for _, kid := range missing {
		x.pmkq.push(kid, c.GroupID)
	}
	return nil
}

// applyEndpoint reloads one endpoint after its event.
func (x *Index) applyEndpoint(ctx context.Context, id int64) error {
	e, err := x.src.Endpoint(ctx, id)
	x.mu.Lock()
	defer x.mu.Unlock()
	if fault.Is(err, fault.NotFound) {
		if k, ok := x.findEndpoint(id); ok {
			x.removeEndpoint(k, id)
		}
		return nil
	}
	if err != nil {
		return err
	}
	k := epKey{e.GroupID, e.MAC}
	n := newEndpointEntry(e)
	s := x.epShard(k)
	s.mu.RLock()
	r, ok := s.getLocked(k)
	same := ok && r.id == id
	s.mu.RUnlock()
	if !same {
		// New, or moved to another station: drop the old binding,
		// keeping its last-seen times.
		if old, ok := x.findEndpoint(id); ok {
			prev := x.removeEndpoint(old, id)
			n.seen, n.flushed = prev.seen, prev.flushed
		}
	}
	s.mu.Lock()
	if s.putLocked(k, n) {
		x.endpoints.Add(1)
	}
	s.mu.Unlock()
	x.maxEpID = max(x.maxEpID, id)
	return nil
}

// findEndpoint returns the station of the stored endpoint id, searching
// every shard. The index keeps no map from endpoint id to station (for
// 100,000 endpoints it would cost about 4 MiB) because the search is only
// needed when an endpoint is deleted or moves to another station, and new
// endpoints, whose ids are above every id loaded, skip it. x.mu is held.
func (x *Index) findEndpoint(id int64) (epKey, bool) {
	if id > x.maxEpID {
		return epKey{}, false
	}
	for i := range x.eps {
		s := &x.eps[i]
		s.mu.RLock()
		for k, slot := range s.m {
			if s.recs[slot].id == id {
				s.mu.RUnlock()
				return k, true
			}
		}
		s.mu.RUnlock()
	}
	return epKey{}, false
}

// removeEndpoint removes the station k if it is still endpoint id and
// returns its record; x.mu is held.
func (x *Index) removeEndpoint(k epKey, id int64) endpointEntry {
	s := x.epShard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.getLocked(k); !ok || r.id != id {
		return endpointEntry{}
	}
	e, _ := s.removeLocked(k)
	x.endpoints.Add(-1)
	return e
}

// Event coalescing. Events are hints that an object changed (the store is
// the truth), so the watcher takes every event already waiting at once and
// reloads each object they name once. A full reload replaces a batch that
// names more than coalesceMax objects (fetching them one by one would cost
// more), a bus resync, an event without an id (imports), and, above all,
// any event lost to a full subscription buffer (Subscription.Dropped grew):
// a bulk change of 1,000 PSKs overflows the default buffer of 256, and a
// lost event must never leave the directory stale. Dropped is also read
// every dropCheck without events, because the bus counts a drop just after
// it fails to deliver, possibly after the watcher read the last buffered
// event.
const (
	coalesceMax = 256
	drainMax    = 4096 // events taken into one batch at most
	dropCheck   = time.Second
)

// changeBatch is what a run of events asks the index to reload.
type changeBatch struct {
	all, clients    bool
	psks, endpoints map[int64]struct{}
	events          int
}

func newChangeBatch() *changeBatch {
	return &changeBatch{psks: map[int64]struct{}{}, endpoints: map[int64]struct{}{}}
}

func (b *changeBatch) add(ev event.Event) {
	b.events++
	switch ev.Topic {
	case event.TopicBus:
		b.all = true
		return
	case nas.Topic:
		b.clients = true
		return
	case TopicPSK, TopicEndpoint:
	default:
		return
	}
	id, err := strconv.ParseInt(ev.ID, 10, 64)
	if err != nil || id <= 0 {
		// Bulk changes (imports) may publish one event without an id.
		b.all = true
		return
	}
	if ev.Topic == TopicPSK {
		b.psks[id] = struct{}{}
	} else {
		b.endpoints[id] = struct{}{}
	}
	if len(b.psks)+len(b.endpoints) > coalesceMax {
		b.all = true
	}
}

func (b *changeBatch) empty() bool {
	return !b.all && !b.clients && len(b.psks) == 0 && len(b.endpoints) == 0
}

func (b *changeBatch) reset() {
	b.all, b.clients, b.events = false, false, 0
	clear(b.psks)
	clear(b.endpoints)
}

// watch applies events until the subscription closes, in coalesced
// batches; a batch that fails is retried as a full reload every second
// until one succeeds.
func (x *Index) watch() {
	defer x.wg.Done()
	var dropped uint64
	tick := time.NewTicker(dropCheck)
	defer tick.Stop()
	b := newChangeBatch()
	for {
		select {
		case ev, ok := <-x.sub.C():
			if !ok {
				return
			}
			b.add(ev)
			x.drain(b)
		case <-tick.C:
		}
		// Read after draining: a drop counted by now is covered by the
		// reload below, which reads the store after the dropped change
		// committed; a later one is seen by the next read.
		if d := x.sub.Dropped(); d != dropped {
			dropped = d
			b.all = true
		}
		if b.empty() {
			continue
		}
		ctx, cancel := context.WithTimeout(x.life, x.batchTimeout(b))
		err := x.applyBatch(ctx, b)
		cancel()
		b.reset()
		for err != nil && x.life.Err() == nil {
			x.log.Warn("RADIUS directory out of date; reloading", "error", err)
			t := time.NewTimer(time.Second)
			select {
			case <-x.life.Done():
			case <-t.C:
			}
			t.Stop()
			ctx, cancel := context.WithTimeout(x.life, x.reloadTimeout)
			err = x.reload(ctx)
			cancel()
		}
	}
}

// Deadlines of the watcher's reads. A full reload reads every PSK and
// endpoint: at a million stations that is tens of seconds, more on a busy
// machine, and a deadline shorter than the read would fail it and retry it
// for ever, leaving the directory as it was (an import of a million
// stations was never served). Its deadline only bounds a store that stopped
// answering; reloading a few objects keeps a short one.
const (
	applyTimeout  = time.Minute
	reloadTimeout = 30 * time.Minute
)

// batchTimeout is the deadline for applying b.
func (x *Index) batchTimeout(b *changeBatch) time.Duration {
	if b.all {
		return x.reloadTimeout
	}
	return x.applyTimeout
}

// drain adds the events already waiting to b, without waiting for more.
func (x *Index) drain(b *changeBatch) {
	for b.events < drainMax {
		select {
		case ev, ok := <-x.sub.C():
			if !ok {
				return
			}
			b.add(ev)
		default:
			return
		}
	}
}

// applyBatch reloads what b names: everything, or the client table and
// each named object once (PSKs before the endpoints that may refer to them).
func (x *Index) applyBatch(ctx context.Context, b *changeBatch) error {
	if b.all {
		return x.reload(ctx)
	}
	if b.clients {
		if err := x.reloadClients(ctx); err != nil {
			return err
		}
	}
	if x.src == nil {
		return nil
	}
	for id := range b.psks {
		if err := x.applyPSK(ctx, id); err != nil {
			return err
		}
	}
	for id := range b.endpoints {
		if err := x.applyEndpoint(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
