package api

import (
	"context"
	"net/http"
	"sort"

	"netkeep/internal/fault"
)

// Route is one registered pattern and what it requires of a caller, so tests
// can enumerate every route (the authorization matrix walks this list).
type Route struct {
	Pattern string // "METHOD /path/{var}"
	Access  Access
	Dialect Dialect // whose envelope and conventions the route follows
}

// Access says who may call a route at all; finer checks happen in handlers.
type Access int

// The access levels.
const (
	Public        Access = iota // no credential (probes, login, setup)
	Authenticated               // any valid credential
	Custom                      // the handler authenticates itself (node, gateway tokens)
	// Local is Authenticated, or no credential from a network trusted for
	// local access (Nekzus's "IP-based (local)"; see LocalTrust).
	Local
)

// Router is an http.ServeMux that remembers its routes and answers unknown
// paths (404) and wrong methods (405) in the owning dialect's envelope.
//
// Ownership is per route: a dialect registers through rt.As(dialect), and
// every error of a matched route (including the 401 of Authenticated) is
// rendered in that dialect's envelope whatever its path prefix. Only paths
// no route matches fall back to DialectFor's prefix table.
type Router struct {
	// mux holds the routes and a catch-all for what none matches, so a
	// request is matched once; routed holds the routes alone, asked only
	// for unmatched requests (what the standard mux answers them: 404,
	// 405 with Allow, or a redirect to the clean path).
	mux     *http.ServeMux
	routed  *http.ServeMux
	auth    *Authenticator
	routes  *[]Route
	dialect Dialect
}

// NewRouter returns an empty router registering netkeep's own routes;
// Authenticated routes go through auth.
func NewRouter(auth *Authenticator) *Router {
	rt := &Router{mux: http.NewServeMux(), routed: http.NewServeMux(), auth: auth, routes: new([]Route)}
	rt.mux.HandleFunc("/", rt.unmatched)
	return rt
}

// As returns a view of rt whose registrations belong to dialect d. The views
// share one mux and one route list.
func (rt *Router) As(d Dialect) *Router {
	c := *rt
	c.dialect = d
	return &c
}

// Handle registers h for pattern (Go 1.22 method pattern). Authenticated
// routes run only for a caller with a valid credential.
func (rt *Router) Handle(pattern string, access Access, h http.Handler) {
	switch access {
	case Authenticated:
		h = rt.auth.Require(h)
	case Local:
		h = rt.auth.RequireOrLocal(h)
	}
	h = owned(rt.dialect, h)
	rt.mux.Handle(pattern, h)
	rt.routed.Handle(pattern, h)
	*rt.routes = append(*rt.routes, Route{Pattern: pattern, Access: access, Dialect: rt.dialect})
}

// owned marks the request as belonging to dialect d before h runs.
func owned(d Dialect, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st := requestOf(r.Context()); st != nil {
			st.dialect, st.routed = d, true
		} else {
			r = r.WithContext(context.WithValue(r.Context(), requestKey{}, &request{dialect: d, routed: true}))
		}
		h.ServeHTTP(w, r)
	})
}

// HandleFunc is Handle for a function.
func (rt *Router) HandleFunc(pattern string, access Access, h http.HandlerFunc) {
	rt.Handle(pattern, access, h)
}

// Routes returns every registered route, sorted by pattern.
func (rt *Router) Routes() []Route {
	out := append([]Route(nil), *rt.routes...)
	sort.Slice(out, func(i, j int) bool { return out[i].Pattern < out[j].Pattern })
	return out
}

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.mux.ServeHTTP(w, r) }

// unmatched answers a request no route matches: the standard mux's answer
// (404, 405 with Allow, or a redirect to the clean path), with errors
// re-rendered in the path's envelope.
func (rt *Router) unmatched(w http.ResponseWriter, r *http.Request) {
	r.Pattern = "" // the catch-all is no route: logs and metrics say "unmatched"
	h, _ := rt.routed.Handler(r)
	rec := &fallbackRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.code {
	case http.StatusNotFound:
		Error(w, r, fault.New(fault.NotFound, "no route for "+r.Method+" "+r.URL.Path))
	case http.StatusMethodNotAllowed:
		if allow := rec.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		Error(w, r, fault.Errorf(fault.MethodNotAllowed, "method %s not allowed; allowed: %s",
			r.Method, rec.header.Get("Allow")))
	default:
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.code)
		_, _ = w.Write(rec.body)
	}
}

type fallbackRecorder struct {
	header http.Header
	code   int
	body   []byte
}

func (f *fallbackRecorder) Header() http.Header { return f.header }
func (f *fallbackRecorder) WriteHeader(c int) {
	if f.code == 0 {
		f.code = c
	}
}
func (f *fallbackRecorder) Write(b []byte) (int, error) {
	if f.code == 0 {
		f.code = http.StatusOK
	}
	f.body = append(f.body, b...)
	return len(b), nil
}
