package netmaker

import (
	"context"
	"net/http"
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
// of what differs), then one message per change. The client sends nothing (a data message
// closes the stream); the server pings every 30 s.
func (h *MeshHandlers) stream(w http.ResponseWriter, r *http.Request, p *authz.Principal) {
	// A digest that does not parse is ignored: the node gets a full view.
	held, _ := meshwire.ParseViewDigest(r.Header.Get(meshwire.HeaderView))
	s, err := h.Mesh.SubscribeFrom(r.Context(), p, r.PathValue("network"), r.PathValue("macaddress"), held)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	defer s.Close()
	// The HTTP server's read and write deadlines would cut a long-lived
	// stream; each write below has its own.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered
	}
	defer c.CloseNow()
	ctx := c.CloseRead(context.WithoutCancel(r.Context()))

	if err := writeFull(ctx, c, s.Full()); err != nil {
		return
	}
	ping := time.NewTicker(streamPingEvery)
	defer ping.Stop()
	for {
		msg, wait, err := s.TryNext()
		if err != nil {
			closeStream(c, s)
			return
		}
		if msg != nil {
			wctx, cancel := context.WithTimeout(ctx, streamWriteWithin)
			err := c.Write(wctx, websocket.MessageText, msg)
			cancel()
			if err != nil {
				return
			}
			continue
		}
		select {
		case <-wait:
		case <-s.Done():
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, streamWriteWithin)
			err := c.Ping(pctx)
			cancel()
			if err != nil {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

func writeFull(ctx context.Context, c *websocket.Conn, v *mesh.FullView) error {
	ctx, cancel := context.WithTimeout(ctx, streamFullWithin)
	defer cancel()
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
