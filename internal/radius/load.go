package radius

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/radius/nas"
	"netkeep/internal/radius/wpa"
)

func newCredential(p PSK) *Credential {
	c := &Credential{PSKID: p.ID, GroupID: p.GroupID, Name: p.Name, Passphrase: p.Passphrase,
		VLAN: p.VLAN, Enabled: p.Enabled}
	if !p.ExpiresAt.IsZero() {
		c.Expires = p.ExpiresAt.Unix()
	}
	if len(p.Passphrase) == 64 {
		if _, err := wpa.PMK(p.Passphrase, []byte("x")); err == nil {
			c.hexKey = true
		}
	}
	return c
}

func newEndpointEntry(e Endpoint) *endpointEntry {
	n := &endpointEntry{id: e.ID, pskID: e.PSKID, vlan: e.VLAN, enabled: e.Enabled}
	if !e.ExpiresAt.IsZero() {
		n.expires = e.ExpiresAt.Unix()
	}
	return n
}

// reload replaces everything with what the sources hold now.
func (x *Index) reload(ctx context.Context) error {
	if err := x.reloadClients(ctx); err != nil {
		return err
	}
	if x.src == nil {
		return nil
	}
	psks, eps, err := x.src.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("loading PSKs and endpoints: %w", err)
	}
	var credMaps [shardCount]map[int64]*Credential
	var epMaps [shardCount]map[epKey]*endpointEntry
	for i := range credMaps {
		credMaps[i] = map[int64]*Credential{}
		epMaps[i] = map[epKey]*endpointEntry{}
	}
	for _, p := range psks {
		credMaps[x.credIndex(p.ID)][p.ID] = newCredential(p)
	}
	byID := make(map[int64]epKey, len(eps))
	for _, e := range eps {
		k := epKey{e.GroupID, e.MAC}
		n := newEndpointEntry(e)
		epMaps[x.epIndex(k)][k] = n
		byID[e.ID] = k
	}
	// Swap shard by shard, keeping last-seen times and in-flight
	// auto-enrolments.
	for i := range x.creds {
		s := &x.creds[i]
		s.mu.Lock()
		s.m = credMaps[i]
		s.mu.Unlock()
	}
	for i := range x.eps {
		s := &x.eps[i]
		s.mu.Lock()
		for k, old := range s.m {
			n := epMaps[i][k]
			switch {
			case n != nil:
				n.seen.Store(old.seen.Load())
				n.flushed.Store(old.flushed.Load())
			case old.id == 0:
				epMaps[i][k] = old
			}
		}
		s.m = epMaps[i]
		s.mu.Unlock()
	}
	x.psks.Store(int64(len(psks)))
	x.endpoints.Store(int64(len(eps)))
	x.mu.Lock()
	x.epByID = byID
	x.mu.Unlock()
	x.syncKeys(ctx, psks)
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
		x.syncKeys(ctx, nil)
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
// PMKs that are still valid, and queues the rest for derivation. psks is
// the snapshot just loaded, or nil to use the loaded credentials.
func (x *Index) syncKeys(ctx context.Context, psks []PSK) {
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
		x.pmkq.push(id)
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
		b = &bucket{set: map[int64]Candidate{}}
		x.buckets[bid] = b
	}
	x.bucketsMu.Unlock()
	b.mu.Lock()
	b.set[c.PSKID] = Candidate{Cred: c, Key: k}
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
		x.pmkq.push(kid)
	}
	return nil
}

// applyEndpoint reloads one endpoint after its event.
func (x *Index) applyEndpoint(ctx context.Context, id int64) error {
	e, err := x.src.Endpoint(ctx, id)
	x.mu.Lock()
	defer x.mu.Unlock()
	oldKey, had := x.epByID[id]
	var old *endpointEntry
	if had {
		s := x.epShard(oldKey)
		s.mu.Lock()
		old = s.m[oldKey]
		if old != nil && old.id == id {
			delete(s.m, oldKey)
			x.endpoints.Add(-1)
		}
		s.mu.Unlock()
		delete(x.epByID, id)
	}
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	k := epKey{e.GroupID, e.MAC}
	n := newEndpointEntry(e)
	if old != nil {
		n.seen.Store(old.seen.Load())
		n.flushed.Store(old.flushed.Load())
	}
	s := x.epShard(k)
	s.mu.Lock()
	if prev := s.m[k]; prev == nil {
		x.endpoints.Add(1)
	} else if prev.seen.Load() > n.seen.Load() {
		n.seen.Store(prev.seen.Load())
	}
	s.m[k] = n
	s.mu.Unlock()
	x.epByID[id] = k
	return nil
}

// watch applies events until the subscription closes. Events are applied in
// order on this one goroutine; a failed reload is retried by a full reload.
func (x *Index) watch() {
	defer x.wg.Done()
	var dropped uint64
	for ev := range x.sub.C() {
		ctx, cancel := context.WithTimeout(x.life, time.Minute)
		err := x.apply(ctx, ev)
		if d := x.sub.Dropped(); d != dropped {
			dropped = d
			err = x.reload(ctx)
		}
		cancel()
		for err != nil && x.life.Err() == nil {
			x.log.Warn("RADIUS directory out of date; reloading", "error", err)
			t := time.NewTimer(time.Second)
			select {
			case <-x.life.Done():
			case <-t.C:
			}
			t.Stop()
			ctx, cancel := context.WithTimeout(x.life, time.Minute)
			err = x.reload(ctx)
			cancel()
		}
	}
}

func (x *Index) apply(ctx context.Context, ev event.Event) error {
	if ev.Topic == event.TopicBus {
		return x.reload(ctx)
	}
	if ev.Topic == nas.Topic {
		return x.reloadClients(ctx)
	}
	if x.src == nil {
		return nil
	}
	id, err := strconv.ParseInt(ev.ID, 10, 64)
	if err != nil || id <= 0 {
		// Bulk changes (imports) may publish one event without an id.
		return x.reload(ctx)
	}
	switch ev.Topic {
	case TopicPSK:
		return x.applyPSK(ctx, id)
	case TopicEndpoint:
		return x.applyEndpoint(ctx, id)
	}
	return nil
}
