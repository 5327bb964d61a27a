package api

import (
	"net/http"
	"strconv"

	"netkeep/internal/fault"
	"netkeep/internal/ratelimit"
)

// LoginLimit is the per-address budget of every sign-in endpoint but
// Nekzus's: GateKey documents "Authentication 50/min per IP", and NetKey and
// Netmaker, which document none for signing in, take the same. Nekzus's
// Authentication endpoints have their own (nekzus.Handlers.AuthLimit).
var LoginLimit = ratelimit.Limit{Max: 50, Window: 60e9}

// LimitIP wraps next with a per-client-address limit; over it the caller gets
// 429 with Retry-After in the path's dialect envelope. Every answer carries the
// X-RateLimit-* headers.
func LimitIP(l *ratelimit.Limiter, family string, lim ratelimit.Limit, next http.Handler) http.Handler {
	return LimitBy(l, func(r *http.Request) string { return family + "|" + ClientIP(r.Context()) }, lim, errTooMany, next)
}

var errTooMany = fault.New(fault.RateLimited, "too many requests; retry later")

// LimitBy wraps next with a limit per key(r); over it the caller gets over
// (a rate_limited fault) with Retry-After in the path's dialect envelope.
// Every answer carries the X-RateLimit-* headers.
func LimitBy(l *ratelimit.Limiter, key func(*http.Request) string, lim ratelimit.Limit, over *fault.Error, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := l.Allow(key(r), lim)
		setRateHeaders(w, d)
		if !d.Allowed {
			Error(w, r, over)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// LimitIPTighter is LimitIP for routes that may already count against
// another budget (a user's session, an API key): its headers replace
// those set before only when it refuses or has fewer requests left, so
// that they describe the most constraining budget, as a
// ratelimit.Decision does for the windows of one key.
func LimitIPTighter(l *ratelimit.Limiter, family string, lim ratelimit.Limit, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := l.Allow(family+"|"+ClientIP(r.Context()), lim)
		if prev, err := strconv.Atoi(w.Header().Get("X-Ratelimit-Remaining")); err != nil || !d.Allowed || d.Remaining < prev {
			setRateHeaders(w, d)
		}
		if !d.Allowed {
			Error(w, r, errTooMany)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// LimitShared wraps next with one limit shared by every client (key);
// over it the caller gets over with Retry-After in the path's dialect
// envelope. It sets the X-RateLimit-* headers only when it refuses: they
// describe the caller's own (per-address) budget, which an outer LimitIP
// or LimitBy sets.
func LimitShared(l *ratelimit.Limiter, key string, lim ratelimit.Limit, over *fault.Error, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := l.Allow(key, lim); !d.Allowed {
			setRateHeaders(w, d)
			Error(w, r, over)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// LimitFailures wraps next so that only its failures (answers of 400 and
// above) count against lim per client address: every attempt takes a
// place up front, which keeps the count exact under concurrent guessing,
// and a success gives it back. Once the failures of a window are used up
// every attempt from that address gets 429 until the window ends, so a
// password guesser gets lim.Max tries, while the successful sign-ins of
// many users behind one address (an office's NAT, a test suite) never
// spend the budget. Headers show the failure budget only when it refuses.
func LimitFailures(l *ratelimit.Limiter, family string, lim ratelimit.Limit, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := family + "|" + ClientIP(r.Context())
		if d := l.Allow(key, lim); !d.Allowed {
			setRateHeaders(w, d)
			Error(w, r, errTooManyFailures)
			return
		}
		cw := &codeWriter{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		if cw.code < http.StatusBadRequest {
			l.Refund(key, lim)
		}
	})
}

// SignIn wraps a sign-in handler (login, setup, refresh) with the two
// per-address budgets of the dialects that document no budget of their own
// for sign-in, or GateKey's 50/min: LoginLimit for every attempt ("auth")
// and failures for the failed ones (see SignInWithin).
func SignIn(l *ratelimit.Limiter, failures ratelimit.Limit, next http.Handler) http.Handler {
	return SignInWithin(l, "auth", LoginLimit, failures, next)
}

// SignInWithin wraps a sign-in handler with budget for every attempt,
// counted per address in family, and failures for the failed ones
// ("auth-failed", see LimitFailures). The failure family is the same in
// every dialect, so moving from one dialect's login to another's gives a
// password guesser no new budget, whatever each dialect's own request
// budget. A zero failures sets no failure budget.
func SignInWithin(l *ratelimit.Limiter, family string, budget, failures ratelimit.Limit, next http.Handler) http.Handler {
	if failures.Max > 0 {
		next = LimitFailures(l, "auth-failed", failures, next)
	}
	return LimitIP(l, family, budget, next)
}

var errTooManyFailures = fault.New(fault.RateLimited, "too many failed attempts from this address; retry later")

// codeWriter remembers the status of the answer written through it.
type codeWriter struct {
	http.ResponseWriter
	code int
}

func (w *codeWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *codeWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *codeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
