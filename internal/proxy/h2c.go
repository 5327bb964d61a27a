package proxy

import (
	"net/http"
	"net/url"
)

// Routes whose upstream is an h2c:// URL are forwarded over HTTP/2 without
// TLS (prior knowledge: the upstream must speak it on that port), every
// request a stream of one multiplexed connection. http:// upstreams get
// HTTP/1.1 with a keep-alive pool, and https:// ones too: HTTP/1.1
// connections in parallel carry a proxy's load on these upstreams at least
// as well as one HTTP/2 connection, and WebSocket upgrades need HTTP/1.1
// (an h2c route cannot carry them).

// unencryptedHTTP2 is the protocol set of an h2c upstream.
func unencryptedHTTP2() *http.Protocols {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return p
}

// h2cTarget is an h2c:// target as the transport dials it: http:// with
// HTTP/2 only.
func h2cTarget(u *url.URL) *url.URL {
	c := *u
	c.Scheme = "http"
	return &c
}

// h2cRoundTripper sends h2c:// requests over HTTP/2 without TLS.
type h2cRoundTripper struct{ t *http.Transport }

// h2c returns the round tripper of h2c:// URLs, a copy of base speaking
// only unencrypted HTTP/2 (for http.Transport.RegisterProtocol).
func h2c(base *http.Transport) http.RoundTripper {
	t := base.Clone()
	t.Protocols = unencryptedHTTP2()
	return h2cRoundTripper{t: t}
}

func (h h2cRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL = h2cTarget(r.URL)
	return h.t.RoundTrip(r)
}
