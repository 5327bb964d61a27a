package api

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"netkeep/internal/apikey"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/device"
	"netkeep/internal/fault"
	"netkeep/internal/ratelimit"
)

// AccessVerifier authenticates user access tokens (JWT) and names the
// default group, the group of credentials that belong to none (the master
// key).
type AccessVerifier interface {
	AuthenticateAccess(ctx context.Context, token string) (*authz.Principal, error)
	DefaultGroupID(ctx context.Context) (int64, error)
}

// KeyVerifier authenticates API keys and applies their rate limits.
type KeyVerifier interface {
	Authenticate(ctx context.Context, secret string) (*authz.Principal, ratelimit.Decision, error)
}

// Authenticator resolves a request's credential into a principal. Accepted:
// X-API-Key: <key>, Authorization: Bearer <key> (a key of any format:
// nk_, gk_, nr_live_, nekzus_), Bearer <master key> (when configured),
// Bearer <access JWT>, and with none of those the browser session cookie
// (same-origin only for changes). API keys, access tokens and browser
// sessions are rate limited, and their answers carry the X-RateLimit-*
// headers.
type Authenticator struct {
	Access    AccessVerifier
	Keys      KeyVerifier
	MasterKey string
	// Web authenticates the browser session cookie (SessionCookie); nil
	// accepts no cookie.
	Web WebVerifier
	// Delegated verifies OAuth2 access tokens netkeep issued to clients;
	// nil accepts none.
	Delegated DelegatedVerifier
	// Sessions counts requests of access-token callers per user
	// (SessionLimits); nil counts nothing.
	Sessions *ratelimit.Limiter
	// Devices authenticates paired devices' tokens (Bearer); nil refuses
	// them.
	Devices DeviceVerifier
	// Local says which requests without credentials act as their group's
	// administrator on Local routes (IP-based trust); nil trusts none.
	Local *LocalTrust

	master atomic.Pointer[authz.Principal] // the master key's principal, once its group is known
	local  atomic.Pointer[authz.Principal] // the local administrator's (LocalTrust)
}

// PrincipalFrom returns the authenticated principal, or nil. Principals may
// be shared between requests: never modify one.
func PrincipalFrom(ctx context.Context) *authz.Principal {
	if r := requestOf(ctx); r != nil {
		return r.principal
	}
	return nil
}

// setPrincipal records p for the rest of the request.
func setPrincipal(r *http.Request, p *authz.Principal) *http.Request {
	if st := requestOf(r.Context()); st != nil {
		st.principal = p
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), requestKey{}, &request{principal: p}))
}

var errNoCredential = fault.New(fault.Unauthorized, "authentication required")

// BearerToken returns the token of an "Authorization: Bearer" header.
func BearerToken(r *http.Request) string {
	h := header(r, "Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// authenticate returns the principal of r's credential. With no credential
// at all it returns errNoCredential.
func (a *Authenticator) authenticate(w http.ResponseWriter, r *http.Request) (*authz.Principal, error) {
	key, bearer := header(r, "X-Api-Key"), ""
	if key == "" {
		if bearer = BearerToken(r); apikey.WellFormed(bearer) {
			key = bearer
		}
	}
	if key != "" {
		return a.authenticateKey(r.Context(), w, key)
	}
	if bearer == "" {
		p, err := a.authenticateCookie(w, r)
		if err != nil {
			return nil, err
		}
		if err := a.limitSession(w, p); err != nil {
			return nil, err
		}
		return p, nil
	}
	return a.authenticateBearer(r.Context(), w, bearer)
}

// AuthenticateToken resolves a credential that arrives outside the HTTP
// headers (the WebSocket stream's auth message) exactly as a bearer token
// is resolved: an API key of any format, the master key, a delegated
// (OAuth2) or an access token. Its rate limits count as for a request, without the headers.
// Errors: unauthorized (empty, unknown, expired or revoked), rate_limited.
func (a *Authenticator) AuthenticateToken(ctx context.Context, token string) (*authz.Principal, error) {
	switch {
	case token == "":
		return nil, errNoCredential
	case apikey.WellFormed(token):
		return a.authenticateKey(ctx, nil, token)
	}
	return a.authenticateBearer(ctx, nil, token)
}

// authenticateKey checks an API key; w, when not nil, gets the key's
// X-RateLimit-* headers.
func (a *Authenticator) authenticateKey(ctx context.Context, w http.ResponseWriter, key string) (*authz.Principal, error) {
	if a.Keys == nil {
		return nil, fault.New(fault.Unauthorized, "invalid API key")
	}
	p, d, err := a.Keys.Authenticate(ctx, key)
	if d.Limit > 0 && w != nil {
		setRateHeaders(w, d)
	}
	return p, err
}

// authenticateBearer checks a bearer token that is no API key: the master
// key, a delegated (OAuth2) token, a paired device's token or an access
// token. w, when not nil, gets the session's rate headers.
func (a *Authenticator) authenticateBearer(ctx context.Context, w http.ResponseWriter, bearer string) (*authz.Principal, error) {
	if a.MasterKey != "" && subtle.ConstantTimeCompare([]byte(bearer), []byte(a.MasterKey)) == 1 {
		return a.masterPrincipal(ctx)
	}
	if a.Delegated != nil && a.Delegated.Issued(bearer) {
		p, err := a.Delegated.AuthenticateDelegated(ctx, bearer)
		if err != nil {
			return nil, err
		}
		if err := a.limitSession(w, p); err != nil {
			return nil, err
		}
		return p, nil
	}
	var p *authz.Principal
	var err error
	switch {
	case a.Devices != nil && device.IsToken(bearer):
		p, err = a.Devices.Authenticate(ctx, bearer)
	case a.Access == nil:
		return nil, fault.New(fault.Unauthorized, "invalid or expired token")
	default:
		p, err = a.Access.AuthenticateAccess(ctx, bearer)
	}
	if err != nil {
		return nil, err
	}
	if err := a.limitSession(w, p); err != nil {
		return nil, err
	}
	return p, nil
}

// masterPrincipal is the master key's principal: SUPER_ADMIN over every
// group, whose own group (where objects it creates without naming one go) is
// the default group. It is built once and shared.
func (a *Authenticator) masterPrincipal(ctx context.Context) (*authz.Principal, error) {
	return a.inDefaultGroup(ctx, &a.master, authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin, Username: "master"})
}

// inDefaultGroup returns the principal cached in c, or p placed in the
// default group, cached there once the group is known.
func (a *Authenticator) inDefaultGroup(ctx context.Context, c *atomic.Pointer[authz.Principal], p authz.Principal) (*authz.Principal, error) {
	if cached := c.Load(); cached != nil {
		return cached, nil
	}
	if a.Access != nil {
		gid, err := a.Access.DefaultGroupID(ctx)
		if err != nil {
			return nil, err
		}
		p.GroupID = gid
	}
	c.Store(&p)
	return &p, nil
}

// header reads a header by its canonical name without canonicalising it
// again (this runs on every authenticated request).
func header(r *http.Request, canonical string) string {
	if v := r.Header[canonical]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// setRateHeaders writes the X-RateLimit-* headers (and Retry-After on denial).
func setRateHeaders(w http.ResponseWriter, d ratelimit.Decision) {
	h := w.Header()
	// One allocation for all three values: a string holding the digits,
	// sliced. The array backing the three header slices is the per-request
	// state's when w is Wrap's writer (a second call in the same request
	// overwrites all three headers along with the array), else one more.
	var vals *[3]string
	if sw, ok := w.(*statusWriter); ok {
		vals = &sw.rate
	} else {
		vals = new([3]string)
	}
	var buf [64]byte
	b := strconv.AppendInt(buf[:0], int64(d.Limit), 10)
	i := len(b)
	b = strconv.AppendInt(b, int64(d.Remaining), 10)
	j := len(b)
	b = strconv.AppendInt(b, d.Reset.Unix(), 10)
	digits := string(b)
	*vals = [...]string{digits[:i], digits[i:j], digits[j:]}
	all := vals[:]
	h["X-Ratelimit-Limit"] = all[0:1:1]
	h["X-Ratelimit-Remaining"] = all[1:2:2]
	h["X-Ratelimit-Reset"] = all[2:3:3]
	if !d.Allowed {
		secs := int((d.RetryAfter + time.Second - 1) / time.Second)
		if secs < 1 {
			secs = 1
		}
		h.Set("Retry-After", strconv.Itoa(secs))
	}
}

// Require wraps next so it runs only for an authenticated caller; others get
// 401 (or 429 over an API key's limit) in the path's dialect envelope.
func (a *Authenticator) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.authenticate(w, r)
		if err != nil {
			Error(w, r, err)
			return
		}
		next.ServeHTTP(w, setPrincipal(r, p))
	})
}

// Optional wraps next so a valid credential, if any, is attached; an absent
// or invalid one leaves the request anonymous.
func (a *Authenticator) Optional(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, err := a.authenticate(w, r); err == nil {
			r = setPrincipal(r, p)
		}
		next.ServeHTTP(w, r)
	})
}

// Source is the audit source of a request: its principal and client address.
func Source(r *http.Request) audit.Source {
	src := audit.Source{IP: ClientIP(r.Context())}
	if p := PrincipalFrom(r.Context()); p != nil {
		src.Actor = p.Actor()
	}
	return src
}
