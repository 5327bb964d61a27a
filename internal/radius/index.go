package radius

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"netkeep/internal/event"
	"netkeep/internal/radius/nas"
	"netkeep/internal/radius/wpa"
)

// ClientSource lists the NAS clients with their secrets; nas.Service
// implements it.
type ClientSource interface {
	All(ctx context.Context) ([]*nas.Client, error)
}

// Index is the in-memory Directory and client table, loaded from the
// sources and kept current by the event bus: a "psk" or "endpoint" event
// reloads that object, a "radius_client" event the client table, and a bus
// resync (or events dropped for a slow reader) everything; waiting events
// are coalesced (see watch).
//
// Lookups take two read locks on shards picked by hash, so readers on
// different stations rarely share a cache line. Writers replace credentials,
// which are immutable, and rewrite endpoint records (stored by value, see
// epShard) under the shard's write lock.
type Index struct {
	src     Source       // nil: no PSKs (clients only)
	clients ClientSource // nil: no clients
	pmks    PMKStore     // nil: PMKs are not persisted
	seal    Sealer
	log     *slog.Logger

	eps   [shardCount]epShard
	creds [shardCount]credShard

	table atomic.Pointer[clientTable]

	mu         sync.Mutex           // guards the fields below (writers only)
	maxEpID    int64                // no loaded endpoint has a larger id (see findEndpoint)
	groupSSIDs map[int64][]string   // group → SSIDs its clients serve
	keys       map[keyID]*keyEntry  // (psk, ssid) → PMK
	buckets    map[bucketID]*bucket // (group, ssid) → candidates; read under bucketsMu
	bucketsMu  sync.RWMutex

	pmkq   *pmkQueue
	sealed chan SealedPMK // derived PMKs, sealed, waiting to be stored
	binds  chan bindJob
	// bindMu is held by the binder while it stores an auto-enrolment and
	// installs the stored endpoint, and by reload from its snapshot to its
	// swap: a binding is then either in the snapshot or installed after
	// the swap, never installed in the shards a reload is replacing (which
	// keep only bindings not stored yet, id 0).
	bindMu  sync.Mutex
	flushMu sync.Mutex

	loaded    atomic.Bool
	endpoints atomic.Int64
	psks      atomic.Int64

	// applyTimeout and reloadTimeout bound the watcher's reads (the
	// constants; tests shorten them).
	applyTimeout, reloadTimeout time.Duration

	sub     *event.Subscription
	life    context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup
	flushEv time.Duration
}

const shardCount = 64

type epKey struct {
	group int64
	mac   MAC
}

type credShard struct {
	mu sync.RWMutex
	m  map[int64]*Credential
	_  [32]byte // 64 bytes in all: shards never share a cache line
}

type keyID struct {
	psk  int64
	ssid string
}

type keyEntry struct {
	key        *wpa.Key
	passphrase string // the key is valid while the credential's passphrase is this
}

type bucketID struct {
	group int64
	ssid  string
}

// bucket holds one (group, SSID)'s candidates. The list searches read is
// built lazily after a change, so that bursts of PMK installs stay linear:
// while a bulk import's PMKs are being derived, the keys installed since
// the last list are appended to it (past its length, where no reader of
// the previous list looks), and only a replaced or removed key makes a
// full rebuild.
type bucket struct {
	mu      sync.Mutex
	set     map[int64]candidate
	list    atomic.Pointer[Candidates] // nil: changed since built
	built   *Candidates                // the last list built (mu)
	added   []candidate                // installed since built, nothing else changed (mu)
	rebuild bool                       // a key was replaced or removed since built (mu)
	recent  atomic.Pointer[Candidates] // the last recentMax matches, newest first
}

type candidate struct {
	cred *Credential
	key  *wpa.Key
}

// recentMax is how many recent matches a bucket keeps to try first: a
// handful of checks (about 0.4 µs each), nothing against a full search.
const recentMax = 32

type bindJob struct {
	group int64
	mac   MAC
	psk   int64
}

// IndexOption configures an Index.
type IndexOption func(*Index)

// WithPMKStore persists PMKs, sealed with s, so a restart does not derive
// them again.
func WithPMKStore(st PMKStore, s Sealer) IndexOption {
	return func(x *Index) { x.pmks, x.seal = st, s }
}

// WithIndexLogger sets the logger.
func WithIndexLogger(l *slog.Logger) IndexOption { return func(x *Index) { x.log = l } }

// WithSeenFlush sets how often last-seen times are written (default 10 s).
func WithSeenFlush(d time.Duration) IndexOption { return func(x *Index) { x.flushEv = d } }

// NewIndex returns an empty index subscribed to bus; Start loads it.
func NewIndex(src Source, clients ClientSource, bus event.Bus, opts ...IndexOption) *Index {
	x := &Index{
		src: src, clients: clients, log: slog.Default(),
		groupSSIDs:   map[int64][]string{},
		keys:         map[keyID]*keyEntry{},
		buckets:      map[bucketID]*bucket{},
		sealed:       make(chan SealedPMK, 1024),
		applyTimeout: applyTimeout, reloadTimeout: reloadTimeout,
		pmkq:    newPMKQueue(),
		binds:   make(chan bindJob, 4096),
		flushEv: 10 * time.Second,
	}
	for _, o := range opts {
		o(x)
	}
	for i := range x.eps {
		x.eps[i].reset(0)
		x.creds[i].m = map[int64]*Credential{}
	}
	x.table.Store(newClientTable(nil))
	x.life, x.stop = context.WithCancel(context.Background())
	// Subscribe before loading so that no change between the load and the
	// subscription is missed.
	x.sub = bus.Subscribe(TopicPSK, TopicEndpoint, nas.Topic)
	return x
}

// Event topics the index follows.
const (
	TopicPSK      = "psk"
	TopicEndpoint = "endpoint"
)

// Start loads everything and starts following events, deriving missing
// PMKs, storing auto-enrolments and flushing last-seen times in the
// background until Close.
func (x *Index) Start(ctx context.Context) error {
	if err := x.reload(ctx); err != nil {
		return err
	}
	x.loaded.Store(true)
	x.wg.Add(4)
	go x.watch()
	go x.derive()
	go x.binder()
	go x.flusher()
	return nil
}

// Close stops the background work, flushing last-seen times once more.
func (x *Index) Close() {
	x.stop()
	x.sub.Close()
	x.pmkq.close()
	x.wg.Wait()
}

// Client returns the NAS client for a source address, or nil.
func (x *Index) Client(addr netip.Addr) *Client { return x.table.Load().lookup(addr) }

// Counts reports how many endpoints, PSKs and clients are loaded.
func (x *Index) Counts() (endpoints, psks, clients int) {
	return int(x.endpoints.Load()), int(x.psks.Load()), x.table.Load().count
}

func (x *Index) epShard(k epKey) *epShard {
	h := (uint64(k.mac) ^ uint64(k.group)<<48 ^ uint64(k.group)) * 0x9E3779B97F4A7C15
	return &x.eps[h>>58]
}

func (x *Index) credShard(id int64) *credShard {
	return &x.creds[uint64(id)*0x9E3779B97F4A7C15>>58]
}

func (x *Index) cred(id int64) *Credential {
	s := x.credShard(id)
	s.mu.RLock()
	c := s.m[id]
	s.mu.RUnlock()
	return c
}

// ByMAC implements Directory.
func (x *Index) ByMAC(group int64, mac MAC) (Grant, bool) {
	k := epKey{group, mac}
	s := x.epShard(k)
	s.mu.RLock()
	r, ok := s.getLocked(k)
	var e endpointEntry
	if ok {
		e = endpointEntry{id: r.id, pskID: r.pskID, expires: r.expires, vlan: r.vlan, enabled: r.enabled}
	}
	s.mu.RUnlock()
	if !ok {
		return Grant{}, false
	}
	c := x.cred(e.pskID)
	if c == nil {
		return Grant{}, false
	}
	g := Grant{Cred: c, EndpointID: e.id, VLAN: int(c.VLAN), Expires: int64(c.Expires), Enabled: e.enabled}
	if e.vlan != 0 {
		g.VLAN = int(e.vlan)
	}
	if exp := int64(e.expires); exp != 0 && (g.Expires == 0 || exp < g.Expires) {
		g.Expires = exp
	}
	return g, true
}

// Seen implements Directory.
func (x *Index) Seen(group int64, mac MAC, t int64) {
	k := epKey{group, mac}
	x.epShard(k).raiseSeen(k, uint32(t))
}

func (x *Index) bucket(group int64, ssid []byte) *bucket {
	x.bucketsMu.RLock()
	b := x.buckets[bucketID{group, string(ssid)}]
	x.bucketsMu.RUnlock()
	return b
}

// Candidates implements Directory.
func (x *Index) Candidates(group int64, ssid []byte) *Candidates {
	b := x.bucket(group, ssid)
	if b == nil {
		return nil
	}
	if l := b.list.Load(); l != nil {
		return l
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if l := b.list.Load(); l != nil {
		return l
	}
	var l *Candidates
	if b.built == nil || b.rebuild {
		l = &Candidates{Creds: make([]*Credential, 0, len(b.set)), Keys: make([]wpa.Key, 0, len(b.set))}
		for _, c := range b.set {
			l.Creds = append(l.Creds, c.cred)
			l.Keys = append(l.Keys, *c.key)
		}
	} else {
		l = &Candidates{Creds: b.built.Creds, Keys: b.built.Keys}
		for _, c := range b.added {
			l.Creds = append(l.Creds, c.cred)
			l.Keys = append(l.Keys, *c.key)
		}
	}
	b.built, b.added, b.rebuild = l, b.added[:0], false
	b.list.Store(l)
	return l
}

// Recent implements Directory.
func (x *Index) Recent(group int64, ssid []byte) *Candidates {
	if b := x.bucket(group, ssid); b != nil {
		return b.recent.Load()
	}
	return nil
}

// Matched implements Directory: the match goes first in the bucket's
// recent list (copied on write, so readers never lock).
func (x *Index) Matched(group int64, ssid []byte, cred *Credential, key *wpa.Key) {
	b := x.bucket(group, ssid)
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.recent.Load()
	if old.Len() > 0 && old.Creds[0] == cred {
		return
	}
	n := &Candidates{Creds: make([]*Credential, 0, recentMax), Keys: make([]wpa.Key, 0, recentMax)}
	n.Creds = append(n.Creds, cred)
	n.Keys = append(n.Keys, *key)
	for i := 0; i < old.Len() && len(n.Creds) < recentMax; i++ {
		if old.Creds[i].PSKID != cred.PSKID {
			n.Creds = append(n.Creds, old.Creds[i])
			n.Keys = append(n.Keys, old.Keys[i])
		}
	}
	b.recent.Store(n)
}

// Current implements Directory.
func (x *Index) Current(cred *Credential, ssid []byte, k *wpa.Key) bool {
	if x.cred(cred.PSKID) != cred {
		return false
	}
	cur := x.CachedKey(cred, ssid)
	return cur != nil && cur.PMK == k.PMK
}

// Pending implements Directory.
func (x *Index) Pending(group int64, ssid []byte, max int) (int, []*Credential) {
	n, ids := x.pmkq.pendingIn(bucketID{group, string(ssid)}, max)
	var creds []*Credential
	for _, id := range ids {
		if c := x.cred(id); c != nil {
			creds = append(creds, c)
		}
	}
	return n, creds
}

// Derive implements Directory. The background derivation of the same key
// is called off, and the key is stored with the background's batches.
func (x *Index) Derive(c *Credential, ssid []byte) *wpa.Key {
	if k := x.CachedKey(c, ssid); k != nil {
		return k
	}
	id := keyID{c.PSKID, string(ssid)}
	x.pmkq.take(id)
	pmk, err := wpa.PMK(c.Passphrase, ssid)
	if err != nil {
		x.log.Warn("cannot derive a PMK", "psk", c.PSKID, "ssid", id.ssid, "error", err)
		return nil
	}
	k := wpa.NewKey(pmk)
	x.installKey(c, id.ssid, k)
	x.queueSeal(c, id.ssid, pmk, false)
	return k
}

// CachedKey implements Directory.
func (x *Index) CachedKey(c *Credential, ssid []byte) *wpa.Key {
	x.mu.Lock()
	e := x.keys[keyID{c.PSKID, string(ssid)}]
	x.mu.Unlock()
	if e != nil && e.passphrase == c.Passphrase {
		return e.key
	}
	return nil
}

// Bind implements Directory.
func (x *Index) Bind(group int64, mac MAC, c *Credential) {
	k := epKey{group, mac}
	s := x.epShard(k)
	s.mu.Lock()
	if _, ok := s.getLocked(k); !ok {
		s.putLocked(k, endpointEntry{pskID: c.PSKID, enabled: true})
		x.endpoints.Add(1)
	}
	s.mu.Unlock()
	select {
	case x.binds <- bindJob{group: group, mac: mac, psk: c.PSKID}:
	default:
		x.log.Warn("auto-enrolment queue full; binding kept in memory only", "mac", mac.String())
	}
}
