package web

import (
	"fmt"
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/event"
	"netkeep/internal/gateway"
	"netkeep/internal/mesh"
	"netkeep/internal/psk"
	"netkeep/internal/radius/nas"
)

// liveTopics are the event topics open pages refresh on (data-live).
var liveTopics = []string{psk.TopicPSK, psk.TopicEndpoint, mesh.TopicNode, mesh.TopicNetwork, "apikey", "user", gateway.TopicGateway, nas.Topic}

// keepAlive is how often an idle stream sends a comment, so proxies keep
// it open and a closed browser is noticed.
const keepAlive = 25 * time.Second

// events streams the topics of changes to the caller's group as
// server-sent events ("event: change", data the topic), for pages to
// refresh their lists. Only the topic crosses: a page fetches what
// changed through its own request, which the domain authorizes.
func (h *Handlers) events(w http.ResponseWriter, r *http.Request) {
	if h.Bus == nil {
		http.Error(w, "no event stream", http.StatusNotImplemented)
		return
	}
	p := api.PrincipalFrom(r.Context())
	sub := h.Bus.Subscribe(liveTopics...)
	defer sub.Close()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // the stream outlives the server's write timeout
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, ": live\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case e, ok := <-sub.C():
			if !ok {
				return
			}
			if !visible(p.GroupScope(), e) {
				continue
			}
			topic := e.Topic
			if topic == event.TopicBus {
				topic = "all"
			}
			if _, err := fmt.Fprintf(w, "event: change\ndata: %s\n\n", topic); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// visible reports whether a subscriber scoped to group (0: every group)
// hears of e: its group's changes, server-wide ones, and the bus's own.
func visible(group int64, e event.Event) bool {
	return group == 0 || e.GroupID == 0 || e.GroupID == group || e.Topic == event.TopicBus
}
