package live

import (
	"context"
	"errors"
	"sync"

	"github.com/coder/websocket"

	"netkeep/internal/authz"
)

// conn is one authenticated socket. Messages wait in a bounded queue; a
// writer goroutine runs only while the queue is not empty, so an idle
// socket costs its reading goroutine and its buffers, nothing more.
type conn struct {
	hub    *Hub
	ws     *websocket.Conn
	p      *authz.Principal
	bucket int    // which ping round pings it
	device string // the device id for device principals, else ""

	mu      sync.Mutex
	queue   []item
	writing bool // a drain goroutine is running
	closing bool // no more messages are accepted
	flush   bool // when closing: write what is queued first
	code    websocket.StatusCode
	reason  string
	// room, while a log stream waits for the queue to make room, is
	// closed (and cleared) when drain takes a message.
	room chan struct{}

	logs logStreams
}

// item is one queued write: a message, or a ping when msg is nil.
type item struct{ msg []byte }

// send queues msg without blocking. A full queue makes c a slow consumer:
// it is closed rather than allowed to hold anything up (as is a socket
// that does not take one message within the write timeout).
func (c *conn) send(msg []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	if len(c.queue) >= c.hub.cfg.Queue {
		c.hub.slow.Add(1)
		c.closeLocked(websocket.StatusTryAgainLater, "slow consumer", false)
		return
	}
	c.queue = append(c.queue, item{msg: msg})
	c.startLocked()
}

// ping queues a keepalive ping, unless the socket already has writes
// pending (a ping behind them would only measure the queue).
func (c *conn) ping() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.writing {
		return
	}
	c.queue = append(c.queue, item{})
	c.startLocked()
}

// close ends c with code and reason; with flush, queued messages are
// written first. It never blocks.
func (c *conn) close(code websocket.StatusCode, reason string, flush bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(code, reason, flush)
}

func (c *conn) closeLocked(code websocket.StatusCode, reason string, flush bool) {
	if c.closing {
		return
	}
	c.closing, c.flush, c.code, c.reason = true, flush, code, reason
	c.startLocked()
}

func (c *conn) startLocked() {
	if !c.writing {
		c.writing = true
		go c.drain()
	}
}

// drain writes the queue until it is empty, then ends; when c is closing
// it sends the close frame instead.
func (c *conn) drain() {
	for {
		c.mu.Lock()
		if c.closing && (!c.flush || len(c.queue) == 0) {
			c.queue = nil
			code, reason := c.code, c.reason
			c.mu.Unlock()
			c.finish(code, reason)
			return
		}
		if len(c.queue) == 0 {
			c.queue, c.writing = nil, false // an idle socket keeps no buffer
			c.mu.Unlock()
			return
		}
		it := c.queue[0]
		c.queue[0] = item{}
		c.queue = c.queue[1:]
		if c.room != nil {
			close(c.room)
			c.room = nil
		}
		c.mu.Unlock()
		if err := c.write(it); err != nil {
			if errors.Is(err, errSlow) {
				c.hub.slow.Add(1)
			}
			c.mu.Lock()
			c.closing, c.queue = true, nil
			c.mu.Unlock()
			_ = c.ws.CloseNow() // the reader sees the error and unregisters c
			return
		}
	}
}

// write sends one item within the write timeout; a ping also waits for its
// pong, so a peer that stopped answering fails here.
func (c *conn) write(it item) error {
	cfg := &c.hub.cfg
	if it.msg == nil {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.PongWithin)
		defer cancel()
		return c.ws.Ping(ctx)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.WriteWithin)
	defer cancel()
	err := c.ws.Write(ctx, websocket.MessageText, it.msg)
	if err != nil && ctx.Err() != nil {
		return errSlow
	}
	return err
}

// errSlow is a message the peer did not take within the write timeout: a
// slow consumer, like one whose queue overflows.
var errSlow = errors.New("live: message not taken within the write timeout")

// finish performs the closing handshake; the reader, still reading, gets
// the peer's answer and ends the socket's handler.
func (c *conn) finish(code websocket.StatusCode, reason string) {
	if err := c.ws.Close(code, reason); err != nil {
		_ = c.ws.CloseNow()
	}
}
