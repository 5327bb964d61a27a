package live

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/authz"
	"netkeep/internal/event"
)

// Config configures a Hub. Zero durations and sizes take the defaults.
type Config struct {
	Bus event.Bus
	// Authenticate resolves the auth message's token (API key, master key,
	// user or device access token) into a principal.
	Authenticate func(ctx context.Context, token string) (*authz.Principal, error)
	// Hello is what the hello message tells a client about this server.
	Hello  Hello
	Logger *slog.Logger

	PingEvery   time.Duration // between two pings of a socket; default 30s
	PongWithin  time.Duration // a ping's pong must come within; default 10s
	AuthWithin  time.Duration // the auth message must come within; default 10s
	WriteWithin time.Duration // one message must be written within; default 10s
	Queue       int           // messages a socket may have waiting; default 64

	// Logs serves container.logs.subscribe; nil refuses it.
	Logs LogSource
	// LogStreams is how many log subscriptions one socket may hold;
	// default 8.
	LogStreams int
}

// Hello is the data of the hello message.
type Hello struct {
	NexusID string `json:"nexusId"`
	Version string `json:"version"`
}

// pingRounds spreads the pings over PingEvery: each tick pings one round's
// sockets, so ten thousand sockets are not pinged in the same instant.
const pingRounds = 16

// Hub fans committed changes out to the connected sockets. Create it with
// New, serve sockets with ServeHTTP, and run it with Run.
type Hub struct {
	cfg Config
	log *slog.Logger
	sub *event.Subscription

	mu      sync.RWMutex
	byGroup map[int64]map[*conn]struct{} // sockets of principals bound to one group
	super   map[*conn]struct{}           // sockets of principals that see every group
	byCred  map[string]map[*conn]struct{}
	devices map[int64]map[string]int // group -> device id -> open sockets
	online  map[string]int           // device id -> open sockets (device ids are unique)
	closed  bool

	count atomic.Int64
	seq   atomic.Uint64 // assigns ping rounds
	slow  atomic.Uint64 // sockets closed as slow consumers (SlowConsumers)
}

// New returns a hub subscribed to every topic of cfg.Bus; events published
// from now on are delivered once Run runs.
func New(cfg Config) *Hub {
	cfg.PingEvery = cmp.Or(cfg.PingEvery, 30*time.Second)
	cfg.PongWithin = cmp.Or(cfg.PongWithin, 10*time.Second)
	cfg.AuthWithin = cmp.Or(cfg.AuthWithin, 10*time.Second)
	cfg.WriteWithin = cmp.Or(cfg.WriteWithin, 10*time.Second)
	cfg.Queue = cmp.Or(cfg.Queue, 64)
	cfg.LogStreams = cmp.Or(cfg.LogStreams, 8)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Hub{
		cfg: cfg, log: log, sub: cfg.Bus.Subscribe(),
		byGroup: map[int64]map[*conn]struct{}{}, super: map[*conn]struct{}{},
		byCred: map[string]map[*conn]struct{}{}, devices: map[int64]map[string]int{}, online: map[string]int{},
	}
}

// Run delivers events and pings sockets until ctx ends or the bus closes;
// then it closes every socket (going away) and refuses new ones.
func (h *Hub) Run(ctx context.Context) {
	tick := time.NewTicker(h.cfg.PingEvery / pingRounds)
	defer tick.Stop()
	defer h.shutdown()
	var round int
	var dropped uint64
	for {
		select {
		case e, ok := <-h.sub.C():
			if !ok {
				return
			}
			h.dispatch(e)
			if d := h.sub.Dropped(); d != dropped {
				h.log.Warn("live stream missed events: the hub fell behind the bus", "missed", d-dropped)
				dropped = d
			}
		case <-tick.C:
			h.pingRound(round)
			round = (round + 1) % pingRounds
		case <-ctx.Done():
			return
		}
	}
}

func (h *Hub) shutdown() {
	h.sub.Close()
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.each(0, func(c *conn) { c.close(websocket.StatusGoingAway, "server shutting down", false) })
}

// dispatch ends the sockets whose credential e revokes, then delivers e's
// message to every socket that may see it.
func (h *Hub) dispatch(e event.Event) {
	h.revoke(e)
	d, ok := translate(e)
	if !ok || (d.ownOnly && e.Origin != h.cfg.Bus.Origin()) {
		return
	}
	res := authz.Resource{GroupID: e.GroupID}
	if e.GroupID == 0 {
		res = authz.Any // server-wide (the CA, configuration)
	}
	h.each(e.GroupID, func(c *conn) {
		switch {
		case d.notDevices && c.device != "":
		case d.devices != nil:
			// A push names its devices: being named in one's own group
			// is the permission.
			if d.devices[c.device] && c.p.GroupID == e.GroupID {
				c.send(d.msg)
			}
		case d.server:
			if authz.AllowServer(c.p, d.action) == nil {
				c.send(d.msg)
			}
		case authz.Allow(c.p, d.action, res) == nil:
			c.send(d.msg)
		}
	})
}

// revoke closes the sockets authenticated with a credential e ends: a
// revoked device (told first with device_revoked), a revoked user session,
// a revoked or deleted API key.
func (h *Hub) revoke(e event.Event) {
	var cred string
	code, reason, flush := websocket.StatusPolicyViolation, "", false
	switch {
	case e.Topic == TopicDevice && e.Action == "revoked":
		cred, reason, flush = deviceCred(e.GroupID, e.ID), "device revoked", true
	case e.Topic == "session" && e.Action == "revoked":
		cred, reason = "session:"+e.ID, "session ended"
	case e.Topic == "apikey" && (e.Action == "revoked" || e.Action == "deleted"):
		cred, reason = "apikey:"+e.ID, "API key revoked"
	default:
		return
	}
	var msg []byte
	if flush {
		msg = deviceMessage(e).msg
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.byCred[cred] {
		if msg != nil {
			c.send(msg)
		}
		c.close(code, reason, flush)
	}
}

// each calls fn for every socket that may be concerned by an event of
// group gid: the group's and the super principals', or all for gid 0.
func (h *Hub) each(gid int64, fn func(*conn)) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if gid == 0 {
		for _, set := range h.byGroup {
			for c := range set {
				fn(c)
			}
		}
	} else {
		for c := range h.byGroup[gid] {
			fn(c)
		}
	}
	for c := range h.super {
		fn(c)
	}
}

func (h *Hub) pingRound(round int) {
	h.each(0, func(c *conn) {
		if c.bucket == round {
			c.ping()
		}
	})
}

// credOf names the credential a socket was opened with, so revoking it
// finds the socket: "device:<group>:<id>", "session:<id>", "apikey:<id>".
func credOf(p *authz.Principal) string {
	switch {
	case p.Kind == authz.KindDevice:
		return deviceCred(p.GroupID, p.Subject)
	case p.Kind == authz.KindAPIKey:
		return "apikey:" + p.KeyID
	case p.Kind == authz.KindUser && p.SessionID != "":
		return "session:" + p.SessionID
	}
	return ""
}

func deviceCred(gid int64, id string) string {
	return "device:" + itoa(gid) + ":" + id
}

// add registers c; it reports false once the hub has shut down.
func (h *Hub) add(c *conn) bool {
	c.bucket = int(h.seq.Add(1) % pingRounds)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	if c.p.IsSuper() {
		h.super[c] = struct{}{}
	} else {
		addTo(h.byGroup, c.p.GroupID, c)
	}
	if cred := credOf(c.p); cred != "" {
		addTo(h.byCred, cred, c)
	}
	if c.device != "" {
		if h.devices[c.p.GroupID] == nil {
			h.devices[c.p.GroupID] = map[string]int{}
		}
		h.devices[c.p.GroupID][c.device]++
		h.online[c.device]++
	}
	h.count.Add(1)
	return true
}

func (h *Hub) remove(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.p.IsSuper() {
		delete(h.super, c)
	} else {
		removeFrom(h.byGroup, c.p.GroupID, c)
	}
	if cred := credOf(c.p); cred != "" {
		removeFrom(h.byCred, cred, c)
	}
	if c.device != "" {
		if n := h.devices[c.p.GroupID][c.device] - 1; n > 0 {
			h.devices[c.p.GroupID][c.device] = n
		} else {
			delete(h.devices[c.p.GroupID], c.device)
			if len(h.devices[c.p.GroupID]) == 0 {
				delete(h.devices, c.p.GroupID)
			}
		}
		if h.online[c.device]--; h.online[c.device] <= 0 {
			delete(h.online, c.device)
		}
	}
	h.count.Add(-1)
}

func addTo[K comparable](m map[K]map[*conn]struct{}, k K, c *conn) {
	set := m[k]
	if set == nil {
		set = map[*conn]struct{}{}
		m[k] = set
	}
	set[c] = struct{}{}
}

func removeFrom[K comparable](m map[K]map[*conn]struct{}, k K, c *conn) {
	delete(m[k], c)
	if len(m[k]) == 0 {
		delete(m, k)
	}
}

// Online reports whether the paired device id (device ids are unique
// across groups) has a socket open on this replica.
func (h *Hub) Online(id string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.online[id] > 0
}

// DevicesOnline counts the devices of group gid (every group for gid 0)
// with a socket open on this replica.
func (h *Hub) DevicesOnline(gid int64) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if gid != 0 {
		return len(h.devices[gid])
	}
	n := 0
	for _, d := range h.devices {
		n += len(d)
	}
	return n
}

// Connections is the number of authenticated sockets open on this replica.
func (h *Hub) Connections() int { return int(h.count.Load()) }

// SlowConsumers is how many sockets were closed because they did not keep
// up: their queue was full, or one message was not taken in time.
func (h *Hub) SlowConsumers() uint64 { return h.slow.Load() }
