package radius

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/radius/nas"
)

// fakeSource stands in for the psk domain.
type fakeSource struct {
	mu      sync.Mutex
	psks    map[int64]PSK
	eps     map[int64]Endpoint
	nextID  int64
	touched map[int64]time.Time
	touches []int // rows per TouchEndpoints call
	binds   int
	// Counted calls, and optional gates that PSK and Snapshot report to
	// (held) and then wait on, to hold the index's watcher inside a fetch
	// or a full reload (see env.hold).
	snapshots, fetches  int
	fetchGate, snapGate *gate
}

// gate holds a call: the call reports to held, then waits until release
// closes open.
type gate struct{ open, held chan struct{} }

// pass reports to the gate *g and waits, if one is set (f.mu not held).
func (f *fakeSource) pass(g **gate) {
	f.mu.Lock()
	cur := *g
	f.mu.Unlock()
	if cur != nil {
		cur.held <- struct{}{}
		<-cur.open
	}
}

func newFakeSource() *fakeSource {
	return &fakeSource{psks: map[int64]PSK{}, eps: map[int64]Endpoint{}, nextID: 1000, touched: map[int64]time.Time{}}
}

func (f *fakeSource) Snapshot(ctx context.Context, onPSK func(PSK) error, onEndpoint func(Endpoint) error) error {
	f.mu.Lock()
	f.snapshots++
	var ps []PSK
	var es []Endpoint
	for _, p := range f.psks {
		ps = append(ps, p)
	}
	for _, e := range f.eps {
		es = append(es, e)
	}
	f.mu.Unlock()
	f.pass(&f.snapGate)
	if err := ctx.Err(); err != nil { // as a database read would
		return err
	}
	for _, p := range ps {
		if err := onPSK(p); err != nil {
			return err
		}
	}
	for _, e := range es {
		if err := onEndpoint(e); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeSource) PSK(_ context.Context, id int64) (PSK, error) {
	f.pass(&f.fetchGate)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetches++
	p, ok := f.psks[id]
	if !ok {
		return PSK{}, fault.New(fault.NotFound, "PSK not found")
	}
	return p, nil
}

func (f *fakeSource) Endpoint(_ context.Context, id int64) (Endpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetches++
	e, ok := f.eps[id]
	if !ok {
		return Endpoint{}, fault.New(fault.NotFound, "endpoint not found")
	}
	return e, nil
}

func (f *fakeSource) BindEndpoint(_ context.Context, group, psk int64, mac MAC) (Endpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.eps {
		if e.GroupID == group && e.MAC == mac {
			return Endpoint{}, fault.New(fault.Conflict, "bound")
		}
	}
	f.nextID++
	e := Endpoint{ID: f.nextID, GroupID: group, MAC: mac, PSKID: psk, Enabled: true}
	f.eps[e.ID] = e
	f.binds++
	return e, nil
}

func (f *fakeSource) TouchEndpoints(_ context.Context, seen map[int64]time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, t := range seen {
		f.touched[id] = t
	}
	f.touches = append(f.touches, len(seen))
	return nil
}

// hold makes the next PSK fetch wait until the returned release is called,
// and returns once a fetch is waiting after publishing ev.
func (e *env) hold(tb testing.TB, ev event.Event) (release func()) {
	tb.Helper()
	return e.holdAt(tb, &e.src.fetchGate, ev)
}

// holdSnapshot makes the next full reload wait, after its snapshot, until
// the returned release is called; it returns once a reload is waiting after
// publishing ev.
func (e *env) holdSnapshot(tb testing.TB, ev event.Event) (release func()) {
	tb.Helper()
	return e.holdAt(tb, &e.src.snapGate, ev)
}

func (e *env) holdAt(tb testing.TB, g **gate, ev event.Event) (release func()) {
	tb.Helper()
	f := e.src
	cur := &gate{open: make(chan struct{}), held: make(chan struct{}, 1)}
	f.mu.Lock()
	*g = cur
	f.mu.Unlock()
	if err := e.bus.Publish(context.Background(), ev); err != nil {
		tb.Fatal(err)
	}
	select {
	case <-cur.held:
	case <-time.After(10 * time.Second):
		tb.Fatalf("the index did not reach the held call after %s %s", ev.Topic, ev.Action)
	}
	f.mu.Lock()
	*g = nil
	f.mu.Unlock()
	return func() { close(cur.open) }
}

// calls returns the counts of full snapshots and single-object fetches.
func (f *fakeSource) calls() (snapshots, fetches int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snapshots, f.fetches
}

func (f *fakeSource) put(p PSK) {
	f.mu.Lock()
	f.psks[p.ID] = p
	f.mu.Unlock()
}

func (f *fakeSource) putEndpoint(e Endpoint) {
	f.mu.Lock()
	f.eps[e.ID] = e
	f.mu.Unlock()
}

type fakeClients struct {
	mu sync.Mutex
	cs []*nas.Client
}

func (f *fakeClients) All(context.Context) ([]*nas.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*nas.Client, len(f.cs))
	for i, c := range f.cs {
		cp := *c
		out[i] = &cp
	}
	return out, nil
}

func nasClient(tb testing.TB, id int64, addr, secret string, v nas.Vendor, ssids ...string) *nas.Client {
	tb.Helper()
	canon, p, err := nas.ParseAddress(addr)
	if err != nil {
		tb.Fatal(err)
	}
	return &nas.Client{ID: id, GroupID: 1, Name: "ap", Address: canon, Prefix: p, Secret: secret,
		Vendor: v, RequireMessageAuthenticator: true, SSIDs: ssids}
}

// env is a directory and server over fakes, for packet-level tests.
type env struct {
	src     *fakeSource
	clients *fakeClients
	bus     *event.Local
	index   *Index
	server  *Server
	now     time.Time
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newEnv(tb testing.TB, clients ...*nas.Client) *env {
	tb.Helper()
	e := &env{src: newFakeSource(), clients: &fakeClients{cs: clients}, bus: event.NewLocal(),
		now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e.index = NewIndex(e.src, e.clients, e.bus, WithIndexLogger(discard()))
	e.server = New(Config{Directory: e.index, Clients: e.index, Index: e.index, Logger: discard(),
		Now: func() time.Time { return e.now }})
	tb.Cleanup(func() {
		e.index.Close()
		e.bus.Close()
	})
	return e
}

func (e *env) start(tb testing.TB) {
	tb.Helper()
	if err := e.index.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// publish announces a change and waits until the index applied it.
func (e *env) publish(tb testing.TB, topic string, id string, applied func() bool) {
	tb.Helper()
	if err := e.bus.Publish(context.Background(), event.Event{Topic: topic, Action: "updated", ID: id}); err != nil {
		tb.Fatal(err)
	}
	eventually(tb, time.Second, applied, "event "+topic+" "+id+" not applied")
}

func eventually(tb testing.TB, within time.Duration, cond func() bool, msg string) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("after %v: %s", within, msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var testAddr = netip.MustParseAddrPort("192.0.2.10:40000")

// exchange runs one request through the packet path (no sockets) and
// returns the raw response, or nil for no answer. Handshake searches run
// inline.
func (e *env) exchange(tb testing.TB, from netip.AddrPort, req []byte, authPort bool) []byte {
	tb.Helper()
	w := e.server.newWorker()
	resp := w.packet(nil, from, append([]byte(nil), req...), authPort)
	if resp == nil {
		select {
		case j := <-e.server.hsq:
			w2 := e.server.newWorker()
			if !w2.req.parse(j.pkt, w2.scratch[:]) {
				tb.Fatal("queued packet does not parse")
			}
			resp = w2.identify(j.client, e.now)
			e.server.dedup.finish(&j.key, resp)
		default:
		}
	}
	return append([]byte(nil), resp...)
}

// buildRequest builds an Access-Request with layeh.com/radius (an independent
// encoder), optionally with a Message-Authenticator computed here.
func buildRequest(tb testing.TB, secret string, withMA bool, build func(p *radius.Packet)) []byte {
	tb.Helper()
	p := radius.New(radius.CodeAccessRequest, []byte(secret))
	if build != nil {
		build(p)
	}
	return encodeWithMA(tb, p, withMA)
}

func encodeWithMA(tb testing.TB, p *radius.Packet, withMA bool) []byte {
	tb.Helper()
	if withMA {
		p.Attributes = append(radius.Attributes{{Type: attrMessageAuthenticator, Attribute: make([]byte, 16)}}, p.Attributes...)
	}
	b, err := p.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	if withMA {
		if p.Code == radius.CodeAccountingRequest {
			// The Request Authenticator depends on the attributes: compute
			// the Message-Authenticator over a zero authenticator first.
			copy(b[4:20], make([]byte, 16))
			mac := hmac.New(md5.New, p.Secret)
			mac.Write(b)
			copy(b[22:38], mac.Sum(nil))
			h := md5.New()
			h.Write(b)
			h.Write(p.Secret)
			copy(b[4:20], h.Sum(nil))
		} else {
			mac := hmac.New(md5.New, p.Secret)
			mac.Write(b)
			copy(b[22:38], mac.Sum(nil))
		}
	}
	return b
}

func macAuth(tb testing.TB, secret, station string, withMA bool) []byte {
	return buildRequest(tb, secret, withMA, func(p *radius.Packet) {
		_ = rfc2865.UserName_SetString(p, station)
		_ = rfc2865.UserPassword_SetString(p, station)
		_ = rfc2865.CallingStationID_SetString(p, station)
		_ = rfc2865.CalledStationID_SetString(p, "02-00-00-00-00-01:netkeep")
	})
}

// parseResponse checks the response's authenticators independently of the
// server code and returns it parsed.
func parseResponse(tb testing.TB, resp, req []byte, secret string) *radius.Packet {
	tb.Helper()
	if len(resp) == 0 {
		tb.Fatal("no response")
	}
	if !radius.IsAuthenticResponse(resp, req, []byte(secret)) {
		tb.Fatal("Response Authenticator does not verify")
	}
	if resp[20] != attrMessageAuthenticator || resp[21] != 18 {
		tb.Fatalf("first attribute is %d, want Message-Authenticator", resp[20])
	}
	b := append([]byte(nil), resp...)
	copy(b[4:20], req[4:20])
	if resp[0] == byte(radius.CodeAccountingResponse) {
		clear(b[4:20])
	}
	got := append([]byte(nil), b[22:38]...)
	clear(b[22:38])
	mac := hmac.New(md5.New, []byte(secret))
	mac.Write(b)
	if !hmac.Equal(mac.Sum(nil), got) {
		tb.Fatal("response Message-Authenticator does not verify")
	}
	p, err := radius.Parse(resp, []byte(secret))
	if err != nil {
		tb.Fatal(err)
	}
	// Tunnel-Password and friends decrypt with the request authenticator.
	copy(p.Authenticator[:], req[4:20])
	return p
}

// vsas returns the values of vendor's sub-attribute vtype.
func vsas(p *radius.Packet, vendor uint32, vtype byte) [][]byte {
	var out [][]byte
	for _, a := range p.Attributes {
		if a.Type != attrVendorSpecific || len(a.Attribute) < 6 || binary.BigEndian.Uint32(a.Attribute) != vendor {
			continue
		}
		if a.Attribute[4] == vtype {
			out = append(out, a.Attribute[6:])
		}
	}
	return out
}

// listen opens a loopback UDP socket on a free port.
func listen(tb testing.TB) *net.UDPConn {
	tb.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func netipAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func counter(c interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
