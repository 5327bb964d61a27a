package radius

import (
	"context"
	"crypto/md5"
	"errors"
	"hash"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"netkeep/internal/radius/nas"
	"netkeep/internal/radius/wpa"
)

// Clients finds the NAS client of a source address; *Index implements it.
type Clients interface {
	Client(addr netip.Addr) *Client
}

// Accounting records sessions; nas.Service implements it.
type Accounting interface {
	ApplySessions(ctx context.Context, b nas.SessionBatch) error
}

// Config is what a Server is built from. Directory and Clients are
// required.
type Config struct {
	Directory  Directory
	Clients    Clients
	Accounting Accounting            // nil: sessions are not recorded
	Registry   prometheus.Registerer // nil: metrics are not exported
	Index      *Index                // for gauges; may be nil
	Logger     *slog.Logger
	Now        func() time.Time
	// Readers per socket; 0 means GOMAXPROCS.
	Readers int
	// HandshakeWorkers run PSK searches; 0 means GOMAXPROCS.
	HandshakeWorkers int
	// SearchShares is how many goroutines one PSK search with many
	// candidates is split across; 0 means GOMAXPROCS, 1 no split.
	SearchShares int
	// SessionFlush is how often accounting is written (default 1 s).
	SessionFlush time.Duration
}

// Server answers RADIUS authentication and accounting over UDP.
type Server struct {
	dir      Directory
	clients  Clients
	m        *metrics
	log      *slog.Logger
	now      func() time.Time
	dedup    *dedup
	readers  int
	hsq      chan hsJob
	hsN      int
	shares   int
	sessions *sessionBuffer
}

// hsJob is a request waiting for a PSK search.
type hsJob struct {
	conn   *net.UDPConn
	addr   netip.AddrPort
	client *Client
	pkt    []byte
	key    dedupKey
}

// New returns a server; Serve runs it.
func New(cfg Config) *Server {
	s := &Server{
		dir: cfg.Directory, clients: cfg.Clients, log: cfg.Logger, now: cfg.Now,
		dedup: newDedup(5 * time.Second), readers: cfg.Readers, hsN: cfg.HandshakeWorkers,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.readers <= 0 {
		s.readers = runtime.GOMAXPROCS(0)
	}
	if s.hsN <= 0 {
		s.hsN = runtime.GOMAXPROCS(0)
	}
	s.shares = cfg.SearchShares
	if s.shares <= 0 {
		s.shares = runtime.GOMAXPROCS(0)
	}
	s.hsq = make(chan hsJob, 1024)
	s.m = newMetrics(cfg.Registry, cfg.Index)
	s.sessions = newSessionBuffer(cfg.Accounting, cfg.SessionFlush, s.log)
	return s
}

// Serve answers on the auth sockets (Access-Request, Status-Server) and
// the acct sockets (Accounting-Request) until ctx ends, then closes them
// and flushes accounting. Either list may be empty; a single socket is read
// by several goroutines, several sockets (Listen) by one each. It returns
// nil after a clean stop.
func (s *Server) Serve(ctx context.Context, auth, acct []*net.UDPConn) error {
	// Timing the search ways now keeps the first handshake from paying it.
	way := wpa.SearchWay()
	s.log.Info("radius: handshake search", "way", way.Name, "lanes", way.Lanes, "shares", s.shares)
	var wg sync.WaitGroup
	life, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		<-life.Done()
		for _, c := range append(append([]*net.UDPConn(nil), auth...), acct...) {
			c.Close()
		}
	}()
	errc := make(chan error, 2*s.readers+len(auth)+len(acct))
	read := func(conns []*net.UDPConn, authPort bool) {
		per := 1
		if len(conns) == 1 {
			per = s.readers
		}
		for _, c := range conns {
			for range per {
				wg.Go(func() { errc <- s.newWorker().read(c, authPort) })
			}
		}
	}
	read(auth, true)
	read(acct, false)
	var hsWG sync.WaitGroup
	for range s.hsN {
		hsWG.Go(func() {
			w := s.newWorker()
			for j := range s.hsq {
				w.search(j)
			}
		})
	}
	flushed := make(chan struct{})
	go func() { s.sessions.run(life); close(flushed) }()

	var err error
	select {
	case <-life.Done():
	case err = <-errc:
		stop()
	}
	wg.Wait()
	close(s.hsq)
	hsWG.Wait()
	<-flushed
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// worker holds one goroutine's buffers: the packet path allocates nothing.
// out is where the reply under construction goes: outBuf, or the slot of
// the batch being answered (serveBatches).
type worker struct {
	s       *Server
	out     []byte
	outBuf  [maxPacketLen]byte
	scratch [maxPacketLen]byte
	// password receives a decrypted User-Password.
	password [nas.MaxMACPasswordLen]byte
	md5      hash.Hash
	tmp      [scratchLen]byte
	req      request
	rep      reply
	rng      *rand.ChaCha8
	ver      wpa.Verifier
	helpers  []wpa.Verifier // the other shares of a split search
}

func (s *Server) newWorker() *worker {
	var seed [32]byte
	_, _ = cryptoRead(seed[:])
	w := &worker{s: s, md5: md5.New(), rng: rand.NewChaCha8(seed)}
	w.out = w.outBuf[:]
	return w
}

// read serves one socket until it is closed, in batches where the platform
// allows.
func (w *worker) read(conn *net.UDPConn, auth bool) error {
	return w.serveBatches(conn, newBatchConn(conn), auth)
}

// packet authenticates and answers one datagram; nil means no answer (now).
func (w *worker) packet(conn *net.UDPConn, addr netip.AddrPort, b []byte, authPort bool) []byte {
	s := w.s
	c := s.clients.Client(addr.Addr())
	if c == nil {
		s.m.dropped[dropUnknownClient].Inc()
		return nil
	}
	pkt, ok := wellFormed(b)
	if !ok || !w.req.parse(pkt, w.scratch[:]) {
		s.m.dropped[dropMalformed].Inc()
		return nil
	}
	r := &w.req
	switch {
	case authPort && r.code == codeAccessRequest:
		s.m.received[0].Inc()
	case authPort && r.code == codeStatusServer:
		s.m.received[2].Inc()
	case !authPort && r.code == codeAccountingRequest:
		s.m.received[1].Inc()
		if !c.key.verifyAccountingRequest(w.md5, w.tmp[:], pkt) {
			s.m.dropped[dropBadAuth].Inc()
			return nil
		}
	default:
		s.m.dropped[dropUnsupported].Inc()
		return nil
	}
	if r.maOff != 0 {
		if !c.key.verifyMessageAuthenticator(w.md5, w.tmp[:], pkt, r.maOff, r.code == codeAccountingRequest) {
			s.m.dropped[dropBadAuth].Inc()
			return nil
		}
	} else if r.code == codeStatusServer || (r.code == codeAccessRequest && c.RequireMA) {
		s.m.dropped[dropMissingMA].Inc()
		return nil
	}

	key := dedupKey{addr: addr, id: r.id}
	copy(key.auth[:], r.auth)
	now := s.now()
	cached, busy := s.dedup.begin(&key, now.UnixNano(), w.out[:0])
	switch {
	case busy:
		s.m.dropped[dropInProgress].Inc()
		return nil
	case cached != nil:
		s.m.duplicates.Inc()
		return cached
	}
	var resp []byte
	switch r.code {
	case codeAccessRequest:
		resp = w.access(c, now)
		if resp == nil { // handed to a handshake worker
			w.s.enqueue(hsJob{conn: conn, addr: addr, client: c, pkt: append([]byte(nil), pkt...), key: key})
			return nil
		}
	case codeStatusServer:
		w.rep.start(w.out[:], codeAccessAccept, r.id)
		resp = w.finish(c)
	case codeAccountingRequest:
		resp = w.accounting(c, now)
	}
	s.dedup.finish(&key, resp)
	return resp
}

func (s *Server) enqueue(j hsJob) {
	select {
	case s.hsq <- j:
	default:
		s.m.dropped[dropOverload].Inc()
		s.dedup.finish(&j.key, nil)
	}
}

// search runs a queued handshake identification and answers it.
func (w *worker) search(j hsJob) {
	if !w.req.parse(j.pkt, w.scratch[:]) {
		w.s.dedup.finish(&j.key, nil)
		return
	}
	resp := w.identify(j.client, w.s.now())
	w.s.dedup.finish(&j.key, resp)
	if resp != nil {
		_, _ = j.conn.WriteToUDPAddrPort(resp, j.addr)
	}
}

// finish signs the reply under construction for c.
func (w *worker) finish(c *Client) []byte {
	if w.rep.full {
		// Cannot happen with the attributes this server sends; never send
		// a truncated answer.
		w.s.log.Error("RADIUS reply overflow; answering Access-Reject")
		w.rep.start(w.out[:], codeAccessReject, w.req.id)
	}
	resp := w.rep.finish()
	c.key.sign(w.md5, w.tmp[:], resp, w.req.auth, w.rep.maOff)
	switch resp[0] {
	case codeAccessAccept:
		w.s.m.accepts.Inc()
	case codeAccountingResponse:
		w.s.m.acctResp.Inc()
	}
	return resp
}
