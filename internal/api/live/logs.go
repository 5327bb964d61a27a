package live

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/authz"
	"netkeep/internal/container"
	"netkeep/internal/fault"
)

// The container log messages. Nekzus documents subscribe and data;
// unsubscribe, end and error complete the exchange.
const (
	TypeLogsSubscribe    = "container.logs.subscribe"
	TypeLogsUnsubscribe  = "container.logs.unsubscribe"
	TypeLogsData         = "container.logs.data"
	TypeLogsEnd          = "container.logs.end"          // the log ended (no follow, or the container went away)
	TypeLogsUnsubscribed = "container.logs.unsubscribed" // nothing more of this container's log follows
	TypeLogsError        = "container.logs.error"
)

// LogSource streams a container's log lines for p until ctx ends, the log
// ends or emit returns false (container.Service.Logs).
type LogSource func(ctx context.Context, p *authz.Principal, id string, o container.LogOptions, emit func(container.LogLine) bool) error

// defaultTail is how many past lines a subscription starts with when it
// does not say.
const defaultTail = 100

// logsRequest is the data of subscribe and unsubscribe.
type logsRequest struct {
	ContainerID string `json:"containerId"`
	Tail        *int   `json:"tail"`
	Follow      *bool  `json:"follow"`
	Timestamps  bool   `json:"timestamps"`
}

type logData struct {
	ContainerID string `json:"containerId"`
	Stream      string `json:"stream"`
	Line        string `json:"line"`
}

type logNotice struct {
	ContainerID string `json:"containerId"`
	Code        string `json:"code,omitempty"`
	Message     string `json:"message"`
}

// logStreams are a socket's log subscriptions, by container id.
type logStreams struct {
	mu   sync.Mutex
	subs map[string]*logSub
}

type logSub struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// subscribe starts streaming a container's log to c, replacing an earlier
// subscription to the same container.
func (h *Hub) subscribe(c *conn, raw json.RawMessage) {
	var req logsRequest
	if json.Unmarshal(raw, &req) != nil || req.ContainerID == "" {
		c.send(encode(TypeLogsError, logNotice{ContainerID: req.ContainerID, Code: "BAD_REQUEST",
			Message: "containerId is required"}, time.Now()))
		return
	}
	if h.cfg.Logs == nil {
		c.send(encode(TypeLogsError, logNotice{ContainerID: req.ContainerID, Code: "CONTAINER_RUNTIME_UNAVAILABLE",
			Message: "container logs are not available on this server"}, time.Now()))
		return
	}
	o := container.LogOptions{Tail: defaultTail, Follow: true, Timestamps: req.Timestamps}
	if req.Tail != nil {
		o.Tail = *req.Tail
	}
	if req.Follow != nil {
		o.Follow = *req.Follow
	}
	h.unsubscribe(c, req.ContainerID)
	c.logs.mu.Lock()
	if len(c.logs.subs) >= h.cfg.LogStreams {
		c.logs.mu.Unlock()
		c.send(encode(TypeLogsError, logNotice{ContainerID: req.ContainerID, Code: "RATE_LIMIT_EXCEEDED",
			Message: "too many log subscriptions on this connection"}, time.Now()))
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	sub := &logSub{cancel: cancel, done: make(chan struct{})}
	if c.logs.subs == nil {
		c.logs.subs = map[string]*logSub{}
	}
	c.logs.subs[req.ContainerID] = sub
	c.logs.mu.Unlock()
	go h.stream(ctx, c, sub, req.ContainerID, o)
}

// stream runs one subscription. A line the socket cannot queue in time
// cuts the socket off (sendLog): the engine's stream is never held by a
// slow client for longer than the write timeout.
func (h *Hub) stream(ctx context.Context, c *conn, sub *logSub, id string, o container.LogOptions) {
	defer close(sub.done)
	defer sub.cancel()
	err := h.cfg.Logs(ctx, c.p, id, o, func(l container.LogLine) bool {
		return c.sendLog(ctx, encode(TypeLogsData, logData{ContainerID: id, Stream: l.Stream, Line: l.Line}, time.Now()))
	})
	if ctx.Err() != nil {
		return // unsubscribed or disconnected
	}
	c.logs.mu.Lock()
	if c.logs.subs[id] == sub {
		delete(c.logs.subs, id)
	}
	c.logs.mu.Unlock()
	if err != nil {
		code, msg := wireError(err)
		if code == "INTERNAL_ERROR" {
			h.log.Error("streaming container logs", "container", id, "err", err)
		}
		c.send(encode(TypeLogsError, logNotice{ContainerID: id, Code: code, Message: msg}, time.Now()))
		return
	}
	c.send(encode(TypeLogsEnd, logNotice{ContainerID: id, Message: "log ended"}, time.Now()))
}

// unsubscribe ends c's subscription to id, if any, and waits until its
// last line is queued.
func (h *Hub) unsubscribe(c *conn, id string) bool {
	c.logs.mu.Lock()
	sub := c.logs.subs[id]
	delete(c.logs.subs, id)
	c.logs.mu.Unlock()
	if sub == nil {
		return false
	}
	sub.cancel()
	<-sub.done
	return true
}

// unsubscribeMessage answers container.logs.unsubscribe.
func (h *Hub) unsubscribeMessage(c *conn, raw json.RawMessage) {
	var req logsRequest
	_ = json.Unmarshal(raw, &req)
	h.unsubscribe(c, req.ContainerID)
	c.send(encode(TypeLogsUnsubscribed, logNotice{ContainerID: req.ContainerID, Message: "unsubscribed"}, time.Now()))
}

// endLogs ends every subscription of c (it disconnected).
func (h *Hub) endLogs(c *conn) {
	c.logs.mu.Lock()
	subs := c.logs.subs
	c.logs.subs = nil
	c.logs.mu.Unlock()
	for _, sub := range subs {
		sub.cancel()
	}
	for _, sub := range subs {
		<-sub.done
	}
}

// sendLog queues a log line, waiting while the socket's queue is half full
// (the other half stays free for events); if the queue does not make room
// within the write timeout the socket is a slow consumer and is closed. It
// reports whether the stream should go on.
func (c *conn) sendLog(ctx context.Context, msg []byte) bool {
	limit := max(c.hub.cfg.Queue/2, 1)
	var timeout <-chan time.Time
	for {
		c.mu.Lock()
		if c.closing {
			c.mu.Unlock()
			return false
		}
		if len(c.queue) < limit {
			c.queue = append(c.queue, item{msg: msg})
			c.startLocked()
			c.mu.Unlock()
			return true
		}
		if c.room == nil {
			c.room = make(chan struct{})
		}
		room := c.room
		c.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(c.hub.cfg.WriteWithin)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-room:
		case <-ctx.Done():
			return false
		case <-timeout:
			c.hub.slow.Add(1)
			c.close(websocket.StatusTryAgainLater, "slow consumer", false)
			return false
		}
	}
}

// wireError is an error as the stream tells it: Nekzus's code and a
// message safe to show.
func wireError(err error) (code, msg string) {
	fe := fault.As(err)
	if fe == nil {
		return "INTERNAL_ERROR", "the log could not be read"
	}
	switch fe.Code {
	case fault.NotFound:
		return "NOT_FOUND", fe.Message
	case fault.Forbidden, fault.Unauthorized:
		return "FORBIDDEN", fe.Message
	case fault.Invalid:
		return "BAD_REQUEST", fe.Message
	case fault.Unavailable:
		return "CONTAINER_RUNTIME_UNAVAILABLE", fe.Message
	case fault.Conflict:
		return "CONFLICT", fe.Message
	}
	return "INTERNAL_ERROR", "the log could not be read"
}
