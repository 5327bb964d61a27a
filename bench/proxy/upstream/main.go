// Command upstream is the web application the proxy benchmark puts behind
// netkeep, nginx and Caddy: /1k and /100k answer that many bytes with
// keep-alive, /ws echoes WebSocket messages.
package main

import (
	"bytes"
	"flag"
	"log"
	"net/http"
	"strconv"

	"github.com/coder/websocket"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:18001", "address")
	flag.Parse()
	small, large := bytes.Repeat([]byte("a"), 1<<10), bytes.Repeat([]byte("b"), 100<<10)
	body := func(b []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			_, _ = w.Write(b)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/1k", body(small))
	mux.Handle("/100k", body(large))
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, msg); err != nil {
				return
			}
		}
	})
	log.Fatal(http.ListenAndServe(*addr, mux))
}
