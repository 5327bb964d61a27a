package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/catalog"
	"netkeep/internal/fault"
)

// Routes is what the proxy needs of the catalog: the route of an app id,
// from memory.
type Routes interface {
	Lookup(appID string) (catalog.Entry, bool)
}

// Options configures a Proxy.
type Options struct {
	// TrustProxyHeaders passes the caller's own X-Forwarded-For chain on
	// (netkeep sits behind a proxy that sets it); otherwise the chain
	// starts at the peer that connected to netkeep.
	TrustProxyHeaders bool
	// CacheBytes bounds the response cache of routes with caching on
	// (default 64 MiB).
	CacheBytes int64
	// Cookies, when set, keeps the cookies apps set for paired devices
	// and sends them on the device's later requests (see CookieVault).
	Cookies CookieVault
	Logger  *slog.Logger
	// Peers carries the requests of peers' apps (federation): the
	// transport to the peer whose CA has the pin. Nil: peers' apps answer
	// 502.
	Peers PeerTransports
}

// PeerTransports gives the mutual-TLS transport to a federation peer,
// pinned to its CA (internal/peering implements it).
type PeerTransports interface {
	Transport(pin string) (http.RoundTripper, error)
}

// Proxy serves /apps/{appId}/*. Register it behind
// api.Authenticator.Optional so a credential, when sent, is known.
type Proxy struct {
	routes Routes
	opts   Options
	cache  *cache
	pool   bufferPool

	// upstreams holds the current *upstream of each app id; reads are
	// lock-free (every request), builds are serialised by mu.
	upstreams sync.Map
	mu        sync.Mutex
}

// New returns a proxy over routes.
func New(routes Routes, o Options) *Proxy {
	if o.CacheBytes == 0 {
		o.CacheBytes = 64 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Proxy{routes: routes, opts: o, cache: newCache(o.CacheBytes)}
}

// upstream is the reverse proxy of one route version: its own keep-alive
// pool and timeout.
type upstream struct {
	entry  catalog.Entry
	target *url.URL
	prefix string // "/apps/{appId}"
	// actions are what a caller must be allowed on the app's group, by
	// role: the route's scopes, less what the role can never hold (write:*
	// names groups:write, which only a SUPER_ADMIN has).
	actions map[authz.Role][]authz.Action
	rp      *httputil.ReverseProxy
	// transport is the route's own pool; nil for a peer's app (the link's
	// transport is shared).
	transport interface{ CloseIdleConnections() }
}

var (
	errNoApp       = fault.New(fault.NotFound, "app not found").WithReason(catalog.ReasonAppNotFound)
	errDisabled    = fault.New(fault.Unavailable, "the app's route is disabled")
	errNoWebSocket = fault.New(fault.Forbidden, "WebSocket upgrades are not enabled for this route")
	errBadGateway  = fault.New(fault.BadGateway, "the app's upstream could not be reached")
	errSlow        = fault.New(fault.GatewayTimeout, "the app's upstream did not answer in time")
	errEscape      = fault.New(fault.Invalid, "the path leaves the app")
	errBadBody     = fault.New(fault.Invalid, "the request body is malformed")
)

// upstreamFor returns the proxy of the app's current route, building it
// when the route is new or changed (the old pool's idle connections close).
func (p *Proxy) upstreamFor(e catalog.Entry) (*upstream, error) {
	if u, ok := p.upstreams.Load(e.App.ID); ok && u.(*upstream).current(e) {
		return u.(*upstream), nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old, _ := p.upstreams.Load(e.App.ID)
	if u, ok := old.(*upstream); ok && u.current(e) {
		return u, nil
	}
	target, err := url.Parse(e.Route.To)
	if err != nil {
		return nil, err
	}
	scopes, err := authz.ParseScopes(e.Route.Scopes)
	if err != nil {
		return nil, err
	}
	u := &upstream{entry: e, target: target, prefix: strings.TrimSuffix(e.Route.PathBase(), "/"), actions: map[authz.Role][]authz.Action{}}
	if len(scopes) == 0 {
		scopes = authz.Scopes{"apps:read": true}
	}
	for _, role := range []authz.Role{authz.SuperAdmin, authz.GroupAdmin, authz.User} {
		grants := authz.RoleGrants(role)
		acts := []authz.Action{"apps:read"} // seeing the app at all
		for a := range scopes {
			if grants.Has(a) && a != "apps:read" {
				acts = append(acts, a)
			}
		}
		u.actions[role] = acts
	}
	var rt http.RoundTripper
	if e.Remote != nil {
		if p.opts.Peers == nil {
			return nil, errBadGateway
		}
		if rt, err = p.opts.Peers.Transport(e.Remote.Pin); err != nil {
			return nil, errBadGateway.Wrap(err)
		}
	} else {
		t := p.newTransport(e)
		switch target.Scheme {
		case "h2c":
			u.target = h2cTarget(target)
			t.Protocols = unencryptedHTTP2()
			rt, u.transport = t, t
		case "http":
			h1 := newH1Transport(hostPort(target), e.Route.Timeout, t)
			rt, u.transport = h1, h1
		default:
			rt, u.transport = t, t
		}
	}
	u.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite(u),
		Transport:      rt,
		BufferPool:     &p.pool,
		ModifyResponse: p.modifyResponse(u),
		ErrorHandler:   p.upstreamError,
		ErrorLog:       slog.NewLogLogger(p.opts.Logger.Handler(), slog.LevelDebug),
	}
	if prev, ok := old.(*upstream); ok && prev.transport != nil {
		prev.transport.CloseIdleConnections()
	}
	p.upstreams.Store(e.App.ID, u)
	return u, nil
}

// newTransport is the keep-alive pool of a local route's upstream.
func (p *Proxy) newTransport(e catalog.Entry) *http.Transport {
	return &http.Transport{
		Proxy:                 nil, // never an environment proxy: only the route's host
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: e.Route.Timeout,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true, // pass the upstream's encoding through
	}
}

// hostPort is the address of an http:// target.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// current reports whether u was built from e's route as it is now: every
// change of a route moves its UpdatedAt, and the table is rebuilt (new
// pointers) on any app's change, which must not reset every pool.
func (u *upstream) current(e catalog.Entry) bool {
	r := u.entry.Route
	return r == e.Route || (r.ID == e.Route.ID && r.UpdatedAt.Equal(e.Route.UpdatedAt) && u.entry.App.GroupID == e.App.GroupID)
}

// ServeHTTP proxies one request.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.serve(w, r, false)
}

// ServePeer proxies a request a federation peer forwarded for one of this
// instance's own apps (r's path is /apps/{appId}/...): the peer has applied
// the route's access rules to its caller, and the link is authenticated,
// so no credential is asked here. A peer's app is not found: links do not
// chain.
func (p *Proxy) ServePeer(w http.ResponseWriter, r *http.Request) {
	p.serve(w, r, true)
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request, peer bool) {
	e, ok := p.routes.Lookup(r.PathValue("appId"))
	if !ok || (peer && e.Remote != nil) {
		api.Error(w, r, errNoApp)
		return
	}
	u, err := p.upstreamFor(e)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if !peer {
		if err := p.allow(r, u); err != nil {
			api.Error(w, r, err)
			return
		}
	}
	if e.Route.Status != catalog.StatusActive {
		api.Error(w, r, errDisabled)
		return
	}
	if isUpgrade(r) && !e.Route.WebSocket {
		api.Error(w, r, errNoWebSocket)
		return
	}
	if strings.Contains(r.URL.Path, "/../") || strings.HasSuffix(r.URL.Path, "/..") {
		api.Error(w, r, errEscape) // the mux cleans paths; this is a second lock
		return
	}
	// Streams (uploads, downloads, SSE, WebSockets) may outlive the
	// server's read and write timeouts and its API body limit. Lifting the
	// deadlines costs two timer changes per request, so it happens here
	// only for what may be long from the start (an upgrade, a large or
	// unsized upload, a route allowed to wait longer than the server's
	// timeouts); a long answer lifts them when it arrives (modifyResponse).
	api.SetBodyLimit(w, r, 0)
	if isUpgrade(r) || r.ContentLength < 0 || r.ContentLength > streamBytes || e.Route.Timeout > boundedWait {
		if !api.Unbounded(r.Context()) {
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
		}
	}
	if e.Route.Cache {
		if p.cache.serve(w, r, e.Route) {
			return
		}
		r = withKey(r, e.Route)
	}
	if r.Body != nil && r.Body != http.NoBody {
		cb := &clientBody{ReadCloser: r.Body}
		r = r.WithContext(context.WithValue(r.Context(), clientBodyKey{}, cb))
		r.Body = cb
	}
	if id := p.vaultDevice(r); id != "" {
		if r, err = p.withVault(r, id, e.App.ID); err != nil {
			api.Error(w, r, err)
			return
		}
	}
	u.rp.ServeHTTP(w, r)
}

// streamBytes is the largest body the server's deadlines are left on: at
// 1 MiB even a slow client finishes well within them. boundedWait is the
// longest route timeout that still fits in them (the server's read and
// write timeouts are 60 s).
const (
	streamBytes = 1 << 20
	boundedWait = 30 * time.Second
)

// streams reports whether an upstream's answer may outlive the server's
// deadlines: unsized (chunked, SSE), large, or a protocol switch.
func streams(resp *http.Response) bool {
	return resp.ContentLength < 0 || resp.ContentLength > streamBytes || resp.StatusCode == http.StatusSwitchingProtocols
}

// allow applies the route's access mode. A credential of another group is
// told the app does not exist.
func (p *Proxy) allow(r *http.Request, u *upstream) error {
	switch u.entry.Route.Auth {
	case catalog.AuthPublic:
		return nil
	case catalog.AuthLocal:
		if isLocal(api.ClientIP(r.Context())) {
			return nil
		}
	}
	pr := api.PrincipalFrom(r.Context())
	if pr == nil {
		return fault.New(fault.Unauthorized, "authentication required")
	}
	acts, ok := u.actions[pr.Role]
	if !ok {
		acts = u.actions[authz.User]
	}
	for _, a := range acts {
		if err := authz.Allow(pr, a, authz.Resource{GroupID: u.entry.App.GroupID}); err != nil {
			if fault.Is(err, fault.NotFound) {
				return errNoApp
			}
			return err
		}
	}
	return nil
}

// isLocal reports whether ip is a loopback or private (LAN) address.
func isLocal(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast()
}

func isUpgrade(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" && headerHasToken(r.Header, "Connection", "upgrade")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// upstreamError answers a failed forward: 504 when the upstream was too
// slow, 502 otherwise, nothing when the client went away.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return
	}
	if b, ok := r.Context().Value(clientBodyKey{}).(*clientBody); ok {
		if cause := b.err.Load(); cause != nil {
			api.Error(w, r, errBadBody.Wrap(*cause)) // the client's fault, not the upstream's
			return
		}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		api.Error(w, r, errSlow.Wrap(err))
		return
	}
	api.Error(w, r, errBadGateway.Wrap(err))
}

// clientBody remembers why reading the client's body failed (bad chunked
// framing, a cut connection): the forward then failed because of the
// client, which is told 400 rather than 502.
// It is read by the transport's writer, which may be another goroutine.
// The request's context carries it to the error handler (which is given
// the outgoing request, whose body is a wrapper).
type clientBody struct {
	io.ReadCloser
	err atomic.Pointer[error]
}

type clientBodyKey struct{}

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.err.Store(&err)
	}
	return n, err
}

// bufferPool recycles the proxy's copy buffers.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }
