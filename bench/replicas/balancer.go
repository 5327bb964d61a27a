package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// balancer is the small HTTP load balancer in front of the replicas:
// round robin over the backends whose /readyz answered 200 at the last
// health check (every 100 ms), and one retry on the other backend when
//   - the connection failed before any response arrived (refused, reset,
//     closed): for every method, since a replica that never answered never
//     committed; a replica in graceful shutdown finishes what it accepted;
//   - an idempotent request got 502, 503 or 504.
//
// Connections to the backends are not kept alive, so that a POST never
// meets a connection the replica closed as idle. Bodies are buffered (they
// are small here) so that the retry can send them again.
type balancer struct {
	backends  []*backend
	transport *http.Transport
	next      atomic.Uint64
	retries   atomic.Int64 // requests sent a second time
}

type backend struct {
	base    string // http://host:port
	healthy atomic.Bool
}

func newBalancer(bases ...string) *balancer {
	b := &balancer{transport: &http.Transport{
		DisableKeepAlives:     true,
		DialContext:           (&net.Dialer{Timeout: time.Second}).DialContext,
		ResponseHeaderTimeout: 30 * time.Second,
	}}
	for _, base := range bases {
		b.backends = append(b.backends, &backend{base: base})
	}
	return b
}

// checkHealth polls every backend's /readyz until ctx ends.
func (b *balancer) checkHealth(ctx context.Context) {
	client := &http.Client{Transport: b.transport, Timeout: 500 * time.Millisecond}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, be := range b.backends {
			res, err := client.Get(be.base + "/readyz")
			ok := err == nil && res.StatusCode == http.StatusOK
			if err == nil {
				res.Body.Close()
			}
			be.healthy.Store(ok)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// order is the backends to try, healthy ones first, starting round robin.
func (b *balancer) order() []*backend {
	n := len(b.backends)
	start := int(b.next.Add(1)) % n
	var healthy, down []*backend
	for i := range n {
		be := b.backends[(start+i)%n]
		if be.healthy.Load() {
			healthy = append(healthy, be)
		} else {
			down = append(down, be)
		}
	}
	return append(healthy, down...)
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "reading the request body", http.StatusBadRequest)
		return
	}
	order := b.order()
	for attempt := range 2 {
		be := order[attempt%len(order)]
		req, err := http.NewRequestWithContext(r.Context(), r.Method, be.base+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		res, err := b.transport.RoundTrip(req)
		if err != nil {
			be.healthy.Store(false)
			if attempt == 0 && r.Context().Err() == nil {
				b.retries.Add(1)
				continue
			}
			http.Error(w, "no replica answered: "+err.Error(), http.StatusBadGateway)
			return
		}
		if attempt == 0 && idempotent(r.Method) && retryStatus(res.StatusCode) {
			res.Body.Close()
			b.retries.Add(1)
			continue
		}
		relay(w, res)
		return
	}
}

// relay copies res to w.
func relay(w http.ResponseWriter, res *http.Response) {
	defer res.Body.Close()
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	// A copy cut short leaves the client a short body, which fails its decode.
	_, _ = io.Copy(w, res.Body)
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

func retryStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}
