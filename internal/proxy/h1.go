package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// h1Transport is the transport of a route whose upstream is plain
// http://. A replayable request without a body (GET, HEAD, OPTIONS,
// TRACE: nearly every proxied request) is written, and its answer read,
// on the calling handler's goroutine over a pooled keep-alive connection:
// none of http.Transport's two goroutines per connection, channel
// hand-offs and request copies. Framing is the standard library's own
// (Request.Write, http.ReadResponse): no HTTP parser of netkeep's.
//
// Everything else goes to the fallback http.Transport, which writes a body
// while it reads the answer (an upstream may answer before it has read an
// upload, or stream its answer while reading it).
//
// A protocol switch (101) hands ReverseProxy the raw connection, so its
// two copy loops move the bytes with splice(2) when both ends are TCP.
type h1Transport struct {
	addr     string // host:port, fixed by the route: the request's URL picks nothing
	fallback *http.Transport
	timeout  time.Duration // until the answer's header; 0: none
	dialer   net.Dialer

	mu     sync.Mutex
	idle   []*h1Conn // most recently used last
	closed bool      // CloseIdleConnections ran: the route changed
}

// Bounds of the idle pool: as http.Transport's of a local route.
const (
	h1MaxIdle     = 512
	h1IdleTimeout = 90 * time.Second
	h1Max1xx      = 5 // interim answers before the final one
)

type h1Conn struct {
	conn   net.Conn
	raw    syscall.RawConn // nil when conn is not a socket
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
}

// quiet reports whether an idle connection has nothing to read: bytes an
// upstream sent after its complete answer (no pool goroutine reads an
// idle connection) would otherwise be read as the next request's answer,
// and a closed one (EOF) would fail it. One non-blocking peek (recv with
// MSG_PEEK|MSG_DONTWAIT) per reuse.
func (c *h1Conn) quiet() bool {
	if c.raw == nil {
		return true
	}
	quiet := false
	err := c.raw.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, errno := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		quiet = errno == syscall.EAGAIN || errno == syscall.EWOULDBLOCK
		return true // never wait for readiness
	})
	return err == nil && quiet
}

func newH1Transport(addr string, timeout time.Duration, fallback *http.Transport) *h1Transport {
	return &h1Transport{addr: addr, fallback: fallback, timeout: timeout,
		dialer: net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}}
}

// RoundTrip sends r over the synchronous path when r allows it, else over
// the fallback.
func (t *h1Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !syncable(r) {
		return t.fallback.RoundTrip(r)
	}
	c, reused, err := t.get(r.Context())
	if err != nil {
		return nil, err
	}
	resp, err := t.exchange(c, r)
	if err != nil && reused && r.Context().Err() == nil && staleConn(err) {
		// The upstream closed the idle connection as it was picked: the
		// request is replayable and nothing of it was answered.
		if c, err = t.dial(r.Context()); err != nil {
			return nil, err
		}
		resp, err = t.exchange(c, r)
	}
	return resp, err
}

// syncable: no body to write, and safe to send again on a fresh
// connection when a pooled one turns out closed (http.Transport retries
// the same requests).
func syncable(r *http.Request) bool {
	if r.Body != nil && r.Body != http.NoBody {
		return false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return r.URL.Scheme == "http"
	}
	return false
}

// exchange writes r on c and reads the answer's header. It owns c: on an
// error c is closed; on success the answer's body gives c back to the pool
// (or closes it) when it ends.
func (t *h1Transport) exchange(c *h1Conn, r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	// A cancelled request (the client went away) breaks the connection's
	// I/O at once, whichever phase it is in; the connection is then not
	// reused.
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(aLongTimeAgo) })
	fail := func(err error) (*http.Response, error) {
		stop()
		_ = c.conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if t.timeout > 0 {
		_ = c.conn.SetDeadline(time.Now().Add(t.timeout))
	}
	if err := r.Write(c.bw); err != nil {
		return fail(stale(err))
	}
	if err := c.bw.Flush(); err != nil {
		return fail(stale(err))
	}
	if _, err := c.br.Peek(1); err != nil {
		return fail(stale(err))
	}
	var resp *http.Response
	for n := 0; ; n++ {
		var err error
		if resp, err = http.ReadResponse(c.br, r); err != nil {
			return fail(err)
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		if n == h1Max1xx {
			return fail(errors.New("too many interim answers"))
		}
		if trace := httptrace.ContextClientTrace(ctx); trace != nil && trace.Got1xxResponse != nil {
			if err := trace.Got1xxResponse(resp.StatusCode, textproto.MIMEHeader(resp.Header)); err != nil {
				return fail(err)
			}
		}
	}
	if t.timeout > 0 {
		_ = c.conn.SetDeadline(time.Time{}) // a body may stream for as long as it likes
	}
	if ctx.Err() != nil {
		// Cancelled before the deadline was cleared: the cancellation's
		// deadline may have been overwritten.
		return fail(ctx.Err())
	}
	keep := !resp.Close && !r.Close
	switch {
	case resp.StatusCode == http.StatusSwitchingProtocols:
		if r.Header.Get("Upgrade") == "" {
			// ReverseProxy refuses it (502) but would leave the
			// connection open.
			return fail(errors.New("the upstream switched protocols unasked"))
		}
		stop() // ReverseProxy closes the connection when the request ends
		resp.Body = switched(c)
	case resp.Body == http.NoBody:
		t.release(c, stop, keep)
	default:
		resp.Body = &h1Body{src: resp.Body, c: c, t: t, stop: stop, keep: keep}
	}
	return resp, nil
}

var aLongTimeAgo = time.Unix(1, 0)

// errStale marks a failure on a connection that had sent nothing of the
// answer: the upstream had closed it (only a retry on a pooled one is
// safe, which RoundTrip checks).
type errStale struct{ error }

func (e errStale) Unwrap() error { return e.error }

func stale(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	return errStale{err}
}

func staleConn(err error) bool {
	var s errStale
	return errors.As(err, &s)
}

// release ends an exchange whose body is done: c goes back to the pool
// when the upstream keeps it alive, nothing is left unread, and no
// cancellation touched it.
func (t *h1Transport) release(c *h1Conn, stop func() bool, keep bool) {
	if !stop() || !keep || c.br.Buffered() > 0 {
		_ = c.conn.Close()
		return
	}
	t.put(c)
}

// switched is the connection after a protocol switch as ReverseProxy's
// copy loops use it: the *net.TCPConn itself (splice(2) both ways) unless
// the upstream's first bytes already sit in the read buffer.
func switched(c *h1Conn) io.ReadWriteCloser {
	if c.br.Buffered() == 0 {
		return c.conn.(io.ReadWriteCloser)
	}
	return &bufferedConn{Conn: c.conn, r: io.MultiReader(io.LimitReader(c.br, int64(c.br.Buffered())), c.conn)}
}

type bufferedConn struct {
	net.Conn
	r io.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// CloseWrite keeps half-closes working through ReverseProxy's copier.
func (b *bufferedConn) CloseWrite() error {
	if cw, ok := b.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// h1Body is an answer's body on the synchronous path: read to its end it
// returns the connection to the pool; closed early it closes it (what
// remains might be endless).
type h1Body struct {
	src  io.ReadCloser
	c    *h1Conn
	t    *h1Transport
	stop func() bool
	keep bool
	done bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.src.Read(p)
	if err != nil {
		b.done = true
		if err == io.EOF {
			b.t.release(b.c, b.stop, b.keep)
		} else {
			b.stop()
			_ = b.c.conn.Close()
		}
	}
	return n, err
}

func (b *h1Body) Close() error {
	if !b.done {
		b.done = true
		b.stop()
		_ = b.c.conn.Close()
	}
	return nil
}

// get returns an idle connection (reused true) or a new one.
func (t *h1Transport) get(ctx context.Context) (*h1Conn, bool, error) {
	now := time.Now()
	t.mu.Lock()
	for len(t.idle) > 0 {
		c := t.idle[len(t.idle)-1]
		t.idle = t.idle[:len(t.idle)-1]
		if now.Sub(c.idleAt) >= h1IdleTimeout {
			_ = c.conn.Close()
			continue
		}
		t.mu.Unlock()
		if c.quiet() {
			return c, true, nil
		}
		_ = c.conn.Close()
		t.mu.Lock()
	}
	t.mu.Unlock()
	c, err := t.dial(ctx)
	return c, false, err
}

func (t *h1Transport) dial(ctx context.Context) (*h1Conn, error) {
	conn, err := t.dialer.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, err
	}
	c := &h1Conn{conn: conn, br: bufio.NewReaderSize(conn, 4<<10), bw: bufio.NewWriterSize(conn, 4<<10)}
	if sc, ok := conn.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	return c, nil
}

// put returns c to the pool, closing the oldest idle connection when it
// has waited past the idle timeout or the pool is full.
func (t *h1Transport) put(c *h1Conn) {
	c.idleAt = time.Now()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		_ = c.conn.Close()
		return
	}
	var old *h1Conn
	if len(t.idle) > 0 && (len(t.idle) >= h1MaxIdle || c.idleAt.Sub(t.idle[0].idleAt) >= h1IdleTimeout) {
		old = t.idle[0]
		t.idle = append(t.idle[:0], t.idle[1:]...)
	}
	t.idle = append(t.idle, c)
	t.mu.Unlock()
	if old != nil {
		_ = old.conn.Close()
	}
}

// CloseIdleConnections closes the idle connections, and any given back
// later: the route they were made for has changed.
func (t *h1Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle, t.closed = nil, true
	t.mu.Unlock()
	for _, c := range idle {
		_ = c.conn.Close()
	}
	t.fallback.CloseIdleConnections()
}
