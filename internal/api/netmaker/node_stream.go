package netmaker

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/mesh"
	"netkeep/internal/meshwire"
)

// WebSocket close codes of the push stream (see internal/mesh's package
// documentation for the protocol).
const (
	CloseResync      websocket.StatusCode = meshwire.CloseResync      // reconnect now: the next full view resynchronises
	CloseNodeDeleted websocket.StatusCode = meshwire.CloseNodeDeleted // the node was deleted: stop and remove the interface
)

// Timeouts of the push stream.
const (
	streamPingEvery   = 30 * time.Second
	streamWriteWithin = 10 * time.Second
	streamFullWithin  = 2 * time.Minute
)

// stream upgrades to a WebSocket and pushes the node's view: a full view
// (or, when the request carries the digest of a view the node holds, a sync
// of what differs), then one message per change. The client sends nothing
// (a data message closes the stream); the server pings every 30 s.
//
// The handler returns once the first message is written: what stays per
// connected agent is the connection, its WebSocket state with small
// buffers, one goroutine reading (pongs and the close), a timer for the
// pings and a pusher, which the mesh tells when there is something to write
// (mesh.Stream.Push) and which then writes from a short-lived goroutine.
// That keeps an idle stream to a few KiB, where a goroutine waiting per
// stream kept the stack it grew serving the request.
func (h *MeshHandlers) stream(w http.ResponseWriter, r *http.Request, p *authz.Principal) {
	// A digest that does not parse is ignored: the node gets a full view.
	held, _ := meshwire.ParseViewDigest(r.Header.Get(meshwire.HeaderView))
	s, err := h.Mesh.SubscribeFrom(r.Context(), p, r.PathValue("network"), r.PathValue("macaddress"), held)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	// The HTTP server's read and write deadlines would cut a long-lived
	// stream; each write below has its own.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	// No permessage-deflate: it compresses a full view about fourfold but
	// costs ~10 ms of CPU per MB for every stream (the compressed bytes
	// cannot be shared between connections), so a fleet taking full views
	// at once would be bound by it; reconnections take a sync instead (see
	// meshwire.ViewDigest), and the deltas are small.
	c, err := websocket.Accept(smallBuffers{w}, r, nil)
	if err != nil {
		s.Close()
		return // Accept has answered
	}
	// Not the request's context: the stream outlives the handler, and must
	// not keep the request (and its headers) alive.
	ctx := c.CloseRead(context.Background())
	if err := writeFull(ctx, c, s.Full()); err != nil {
		s.Close()
		c.CloseNow()
		return
	}
	startPusher(ctx, c, s)
}

// pusher writes a stream's messages to its WebSocket when the mesh says
// some may be waiting.
type pusher struct {
	ctx     context.Context // ends when the connection's reader does
	c       *websocket.Conn
	s       *mesh.Stream
	busy    atomic.Bool // a writer goroutine runs
	pending atomic.Bool // ready was called since the writer last looked
	ping    *time.Timer
}

func startPusher(ctx context.Context, c *websocket.Conn, s *mesh.Stream) {
	p := &pusher{ctx: ctx, c: c, s: s}
	p.ping = time.AfterFunc(streamPingEvery, p.pingOnce)
	context.AfterFunc(ctx, p.stop) // the client closed or went away
	s.Push(p.ready)
}

// ready starts a writer unless one runs; one that runs looks again.
func (p *pusher) ready() {
	p.pending.Store(true)
	if p.busy.CompareAndSwap(false, true) {
		go p.write()
	}
}

func (p *pusher) write() {
	for {
		p.pending.Store(false)
		for {
			msg, _, err := p.s.TryNext()
			if err != nil {
				closeStream(p.c, p.s)
				p.stop()
				return // busy stays set: nothing more to write
			}
			if msg == nil {
				break
			}
			wctx, cancel := context.WithTimeout(p.ctx, streamWriteWithin)
			err = p.c.Write(wctx, websocket.MessageText, msg)
			cancel()
			if err != nil {
				p.stop()
				return
			}
		}
		p.busy.Store(false)
		if !p.pending.Load() || !p.busy.CompareAndSwap(false, true) {
			return
		}
	}
}

func (p *pusher) pingOnce() {
	pctx, cancel := context.WithTimeout(p.ctx, streamWriteWithin)
	err := p.c.Ping(pctx)
	cancel()
	if err != nil {
		p.stop()
		return
	}
	if p.ctx.Err() == nil {
		p.ping.Reset(streamPingEvery)
	}
}

// stop ends the stream and the connection; it may run more than once.
func (p *pusher) stop() {
	p.ping.Stop()
	p.s.Close()
	p.c.CloseNow()
}

// smallBuffers hands the WebSocket small read and write buffers on hijack
// instead of net/http's 4 KiB each: the server reads only control frames,
// and writes deltas of a few hundred bytes (the write buffer holds a
// frame's header and a typical upsert, so each goes out in one write;
// larger messages bypass it), and thousands of idle streams would
// otherwise hold 8 KiB each for nothing.
type smallBuffers struct{ http.ResponseWriter }

const (
	streamReadBuffer  = 256
	streamWriteBuffer = 512
)

func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	var rd io.Reader = conn
	if n := brw.Reader.Buffered(); n > 0 { // sent right after the handshake
		early, _ := brw.Reader.Peek(n)
		rd = io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn)
	}
	return conn, bufio.NewReadWriter(bufio.NewReaderSize(rd, streamReadBuffer), bufio.NewWriterSize(conn, streamWriteBuffer)), nil
}

func writeFull(ctx context.Context, c *websocket.Conn, v *mesh.FullView) error {
	ctx, cancel := context.WithTimeout(ctx, streamFullWithin)
	defer cancel()
	if v.IsSync() { // small: one frame, one write
		return c.Write(ctx, websocket.MessageText, v.AppendTo(nil))
	}
	wr, err := c.Writer(ctx, websocket.MessageText)
	if err != nil {
		return err
	}
	if _, err := v.WriteTo(wr); err != nil {
		return err
	}
	return wr.Close()
}

// closeStream tells the client why the server ended the stream.
func closeStream(c *websocket.Conn, s *mesh.Stream) {
	code, why := websocket.StatusNormalClosure, "closed"
	switch s.Reason() {
	case mesh.EndResync:
		code, why = CloseResync, "resync"
	case mesh.EndDeleted:
		code, why = CloseNodeDeleted, "node deleted"
	case mesh.EndShutdown:
		code, why = websocket.StatusGoingAway, "server shutting down"
	}
	_ = c.Close(code, why)
}
