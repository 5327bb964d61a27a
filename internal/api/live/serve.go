package live

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// readLimit bounds one client message: clients send small JSON (the auth
// token is the largest).
const readLimit = 16 << 10

// ListenAction is the permission a principal needs to open the stream:
// Nekzus's read:events scope grants it, and so does every role.
const ListenAction authz.Action = "devices:read"

// ServeHTTP upgrades the request to a WebSocket and runs the stream's
// protocol until either side closes it. The caller has rate limited the
// request; credentials come in the first message, not in headers.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := api.AcceptSocket(w, r)
	if err != nil {
		return // Accept has answered
	}
	go h.session(ws) // a shallow stack, without the request's frames
}

// session runs a socket from its auth message to its end.
func (h *Hub) session(ws *websocket.Conn) {
	defer ws.CloseNow()
	ws.SetReadLimit(readLimit)
	ctx := context.Background()
	p, ok := h.handshake(ctx, ws)
	if !ok {
		return
	}
	h.serve(ctx, ws, p)
}

// serve runs an authenticated socket: auth_success and hello, then the
// hub's messages until either side closes.
func (h *Hub) serve(ctx context.Context, ws *websocket.Conn, p *authz.Principal) {
	c := &conn{hub: h, ws: ws, p: p}
	if p.Kind == authz.KindDevice {
		c.device = p.Subject
	}
	now := time.Now()
	c.send(encode(TypeAuthSuccess, authSuccess{DeviceID: principalID(p), Message: "authenticated"}, now))
	c.send(encode(TypeHello, hello{Message: "connected", Hello: h.cfg.Hello, Timestamp: now.Unix()}, now))
	if !h.add(c) {
		c.close(websocket.StatusGoingAway, "server shutting down", true)
		h.read(ctx, c)
		return
	}
	defer h.remove(c)
	defer h.endLogs(c)
	h.read(ctx, c)
}

// handshake reads the auth message and authenticates its token. On failure
// it answers auth_failed and closes the socket.
func (h *Hub) handshake(ctx context.Context, ws *websocket.Conn) (*authz.Principal, bool) {
	// A read whose context expires closes the socket without a word, so the
	// timeout is a timer that answers first.
	timer := time.AfterFunc(h.cfg.AuthWithin, func() {
		refuse(ws, "UNAUTHORIZED", "timeout waiting for auth message")
	})
	typ, b, err := ws.Read(ctx)
	if !timer.Stop() || err != nil {
		return nil, false
	}
	var m struct {
		Type string `json:"type"`
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	if typ != websocket.MessageText || json.Unmarshal(b, &m) != nil || m.Type != TypeAuth {
		refuse(ws, "INVALID_REQUEST", "expected auth message")
		return nil, false
	}
	if m.Data.Token == "" {
		refuse(ws, "UNAUTHORIZED", "token required")
		return nil, false
	}
	actx, cancel := context.WithTimeout(ctx, h.cfg.AuthWithin)
	defer cancel()
	p, err := h.cfg.Authenticate(actx, m.Data.Token)
	if err == nil {
		err = authz.Allow(p, ListenAction, authz.Any)
	}
	switch fault.CodeOf(err) {
	case "":
		return p, true
	case fault.Forbidden:
		refuse(ws, "FORBIDDEN", "the read:events scope is required")
	case fault.RateLimited:
		refuse(ws, "RATE_LIMIT_EXCEEDED", "too many requests; retry later")
	case fault.Unauthorized, fault.NotFound:
		refuse(ws, "UNAUTHORIZED", "invalid or expired token")
	default:
		h.log.Error("authenticating a live stream", "err", err)
		refuse(ws, "INTERNAL_ERROR", "authentication failed")
	}
	return nil, false
}

// refuse answers auth_failed and closes the socket (policy violation).
func refuse(ws *websocket.Conn, code, msg string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = ws.Write(ctx, websocket.MessageText, encode(TypeAuthFailed, authFailed{Error: msg, Code: code}, time.Now()))
	_ = ws.Close(websocket.StatusPolicyViolation, "authentication failed")
}

// read handles the client's messages until the socket ends: a ping is
// answered with a pong, container log subscriptions start and stop
// streams; pongs, acknowledgements and anything unknown are accepted and
// ignored, as Nekzus does.
func (h *Hub) read(ctx context.Context, c *conn) {
	for {
		typ, b, err := c.ws.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		var m struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch m.Type {
		case TypePing:
			now := time.Now()
			c.send(encode(TypePong, pong{Timestamp: now.Unix()}, now))
		case TypeLogsSubscribe:
			h.subscribe(c, m.Data)
		case TypeLogsUnsubscribe:
			h.unsubscribeMessage(c, m.Data)
		}
	}
}

// principalID is how auth_success names the client: a device by its id,
// anyone else by the actor name the audit log uses.
func principalID(p *authz.Principal) string {
	if p.Kind == authz.KindDevice {
		return p.Subject
	}
	return p.Actor()
}

type authSuccess struct {
	DeviceID string `json:"deviceId"`
	Message  string `json:"message"`
}

type authFailed struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

type hello struct {
	Message string `json:"message"`
	Hello
	Timestamp int64 `json:"timestamp"`
}

type pong struct {
	Timestamp int64 `json:"timestamp"`
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
