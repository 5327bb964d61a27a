package radius

import (
	"sync"
	"sync/atomic"

	"netkeep/internal/radius/wpa"
)

// The PSK search behind handshake identification. A candidate costs nine
// SHA-1 compressions (wpa.Verifier): about 0.06 µs of one core with
// AVX-512 (16 candidates at once), 0.3-0.4 µs with the SHA extensions
// alone, so 100,000 PSKs on one SSID are milliseconds to tens of
// milliseconds of CPU: the search tries first what is likely (the bucket's
// recent matches), then splits the full scan across the cores, and a PSK
// whose PMK is still being derived is derived on demand when few are
// waiting.

// splitMin is the smallest share of a split search: below it, starting
// and waiting for a goroutine costs more than it saves.
const splitMin = 4096

// onDemandMax is how many waiting PMKs a search that matched nothing
// derives on the spot (about a millisecond each): enough for PSKs created
// a moment ago, while a bulk import's backlog is left to the background
// and the reject says why.
const onDemandMax = 4

// searchResult is what a search found and did.
type searchResult struct {
	cred    *Credential
	key     *wpa.Key
	tried   int // candidates checked
	pending int // PSKs of the bucket still without a PMK, when nothing matched
}

// findPSK searches the candidates of group on ssid for the PMK that
// produced the handshake w.ver was reset for.
func (w *worker) findPSK(group int64, ssid []byte) searchResult {
	dir := w.s.dir
	var res searchResult
	if rec := dir.Recent(group, ssid); rec.Len() > 0 {
		i, n := w.ver.Find(rec.Keys, nil)
		res.tried += n
		if i >= 0 && dir.Current(rec.Creds[i], ssid, &rec.Keys[i]) {
			res.cred, res.key = rec.Creds[i], &rec.Keys[i]
			return res
		}
	}
	if cs := dir.Candidates(group, ssid); cs.Len() > 0 {
		i, n := w.scan(cs.Keys)
		res.tried += n
		if i >= 0 {
			res.cred, res.key = cs.Creds[i], &cs.Keys[i]
			dir.Matched(group, ssid, res.cred, res.key)
			return res
		}
	}
	n, waiting := dir.Pending(group, ssid, onDemandMax)
	for _, c := range waiting {
		k := dir.Derive(c, ssid)
		if k == nil {
			continue
		}
		res.tried++
		if w.ver.Match(k) {
			res.cred, res.key = c, k
			dir.Matched(group, ssid, c, k)
			return res
		}
	}
	res.pending = n - len(waiting)
	return res
}

// scan runs w.ver.Find over keys, split into one share per core when
// there are enough: the worker searches the first share and helper
// goroutines the others, each with its own copy of the verifier; the first
// match stops them all. It returns the lowest index found (any matching
// key is right: two PSKs of a group with one passphrase are the same key)
// and how many keys were checked in all.
func (w *worker) scan(keys []wpa.Key) (found, tried int) {
	parts := min(w.s.shares, len(keys)/splitMin)
	if parts <= 1 {
		return w.ver.Find(keys, nil)
	}
	if len(w.helpers) < parts-1 {
		w.helpers = make([]wpa.Verifier, parts-1)
	}
	per := (len(keys) + parts - 1) / parts
	var stop atomic.Bool
	founds := make([]int, parts)
	trieds := make([]int, parts)
	var wg sync.WaitGroup
	for p := 1; p < parts; p++ {
		lo, hi := p*per, min(len(keys), (p+1)*per)
		v := &w.helpers[p-1]
		w.ver.CopyTo(v)
		wg.Go(func() {
			f, t := v.Find(keys[lo:hi], &stop)
			if f >= 0 {
				stop.Store(true)
				f += lo
			}
			founds[p], trieds[p] = f, t
		})
	}
	f, t := w.ver.Find(keys[:per], &stop)
	if f >= 0 {
		stop.Store(true)
	}
	founds[0], trieds[0] = f, t
	wg.Wait()
	found = -1
	for p := range parts {
		tried += trieds[p]
		if founds[p] >= 0 && (found < 0 || founds[p] < found) {
			found = founds[p]
		}
	}
	return found, tried
}
