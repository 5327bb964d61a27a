package api

import (
	"context"
	"net/http"
	"time"
)

// Unbounded lifts the server's read and write deadlines from the
// connection of the request ctx belongs to (one made through Wrap), for an
// answer that may outlive them: a stream, a large download, an upgraded
// connection. It reports whether it could. It needs only the context, so
// a proxy can decide once the upstream's answer is known.
func Unbounded(ctx context.Context) bool {
	st := requestOf(ctx)
	if st == nil {
		return false
	}
	unbound(st.sw.ResponseWriter)
	return true
}

func unbound(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
}
