package api

import (
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// AcceptSocket upgrades r to a long-lived WebSocket whose credentials come
// in its first message, not in headers or cookies. The HTTP server's read
// and write deadlines, which would cut the socket, are lifted: the caller
// bounds its own writes and reads by pings. Origin is not checked, since
// no ambient credential (cookie) is trusted on such a socket, and frames
// are not compressed. On error the answer has been written; the caller
// returns.
//
// The socket outlives the request: run it on a goroutine of its own,
// without the request and its context, which a long-lived socket would
// otherwise keep.
func AcceptSocket(w http.ResponseWriter, r *http.Request) (*websocket.Conn, error) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	return websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
}
