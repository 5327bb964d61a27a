package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// Version is sent as X-API-Version on every response.
const Version = "v1"

// versionHeader is shared by every response; header values are never mutated.
var versionHeader = []string{Version}

// request is the per-request state the middleware keeps in the context: one
// allocation for everything handlers may ask of it.
type request struct {
	id        string
	ip        string
	log       *slog.Logger
	principal *authz.Principal
	sw        statusWriter
	// body is the request body as Wrap received it, before the server-wide
	// limit, so SetBodyLimit can re-wrap it with a route's own limit.
	body io.ReadCloser
	// dialect is the owning dialect of the matched route (routed false until
	// the router has matched one); errors are rendered in its envelope.
	dialect Dialect
	routed  bool
}

type requestKey struct{}

func requestOf(ctx context.Context) *request {
	r, _ := ctx.Value(requestKey{}).(*request)
	return r
}

// RequestID returns the request's id.
func RequestID(ctx context.Context) string {
	if r := requestOf(ctx); r != nil {
		return r.id
	}
	return ""
}

// ClientIP returns the request's source address as resolved by the middleware.
func ClientIP(ctx context.Context) string {
	if r := requestOf(ctx); r != nil {
		return r.ip
	}
	return ""
}

// LoggerFrom returns the request-scoped logger (slog.Default outside requests).
func LoggerFrom(ctx context.Context) *slog.Logger {
	if r := requestOf(ctx); r != nil && r.log != nil {
		return r.log
	}
	return slog.Default()
}

// WithLogger returns ctx carrying l (for code outside a request, and tests).
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, requestKey{}, &request{log: l})
}

// Options configures the shared middleware.
type Options struct {
	Logger            *slog.Logger
	Metrics           *Metrics
	MaxBodyBytes      int64
	TrustProxyHeaders bool
}

// Wrap returns next behind the shared middleware: request id and version
// headers, client address, body limit (MaxBodyBytes for every route; a route
// may choose its own with SetBodyLimit), panic recovery, logging and metrics.
// It reads the route pattern the mux records in r.Pattern after dispatch.
func Wrap(next http.Handler, o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := incomingRequestID(r.Header.Get("X-Request-Id"))
		if id == "" {
			id = newRequestID()
		}
		h := w.Header()
		h["X-Request-Id"] = []string{id}
		h["X-Api-Version"] = versionHeader
		ip := clientIP(r, o.TrustProxyHeaders)
		st := &request{id: id, ip: ip, log: o.Logger}
		st.sw.ResponseWriter = w
		rw := &st.sw
		r = r.WithContext(context.WithValue(r.Context(), requestKey{}, st))
		if r.Body != nil && o.MaxBodyBytes > 0 {
			st.body = r.Body
			r.Body = http.MaxBytesReader(w, r.Body, o.MaxBodyBytes)
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				o.Logger.Error("panic", "panic", fmt.Sprint(p), "request_id", id, "method", r.Method, "path", r.URL.Path)
				if !rw.wrote {
					Error(rw, r, fault.New(fault.Internal, "internal error"))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			if o.Metrics != nil {
				o.Metrics.observe(route, rw.status(), d)
			}
			o.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("route", route),
				slog.Int("status", rw.status()), slog.Duration("duration", d),
				slog.String("request_id", id), slog.String("ip", ip))
		}()
		next.ServeHTTP(rw, r)
	})
}

// statusWriter remembers the status written. It is part of the request
// state, so it also holds what headers of this response may point into.
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
	rate  [3]string // backs the X-RateLimit-* header values (setRateHeaders)
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) status() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.code
}

// Unwrap lets http.ResponseController reach Flush/Hijack of the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// incomingRequestID accepts a caller's id when it is short and plain.
func incomingRequestID(s string) string {
	if s == "" || len(s) > 64 {
		return ""
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return ""
		}
	}
	return s
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// clientIP is the request's client address: the TCP peer, or with
// trustProxy the last address of X-Forwarded-For, the one the proxy in
// front of netkeep added. Addresses before it are what the client itself
// sent (a proxy that appends, as nginx's $proxy_add_x_forwarded_for does,
// keeps them), so believing the first would let any client name itself
// 127.0.0.1 to local trust and pick a fresh address for every rate limit.
func clientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if lines := r.Header.Values("X-Forwarded-For"); len(lines) > 0 {
			last := lines[len(lines)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip := net.ParseIP(strings.TrimSpace(last)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
