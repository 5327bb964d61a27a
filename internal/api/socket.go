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
	return accept(w, r, true)
}

// AcceptAuthenticatedSocket upgrades r, already authenticated by its
// headers or its session cookie, to a long-lived WebSocket. Unlike
// AcceptSocket it checks Origin: a browser sends the cookie along with a
// page of any site that opens the socket, so a request that carries an
// Origin must come from this server's own host (programs that send no
// Origin are not affected). Deadlines and compression are as for
// AcceptSocket, as is running the socket without the request.
func AcceptAuthenticatedSocket(w http.ResponseWriter, r *http.Request) (*websocket.Conn, error) {
	return accept(w, r, false)
}

func accept(w http.ResponseWriter, r *http.Request, anyOrigin bool) (*websocket.Conn, error) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	return websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: anyOrigin,
		CompressionMode:    websocket.CompressionDisabled,
	})
}
