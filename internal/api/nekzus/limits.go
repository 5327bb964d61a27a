package nekzus

import (
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/device"
	"netkeep/internal/fault"
	"netkeep/internal/ratelimit"
)

// Category names a row of Nekzus's rate-limit table.
type Category string

// The categories Nekzus documents.
const (
	LimitHealth     Category = "health"
	LimitAuth       Category = "auth"
	LimitQR         Category = "qr"
	LimitWebSocket  Category = "websocket"
	LimitDevices    Category = "devices"
	LimitContainers Category = "containers"
	LimitGeneral    Category = "general"
)

// Rate is a documented limit: Requests per Per on average, up to Burst at
// once.
type Rate struct {
	Requests int
	Per      time.Duration
	Burst    int
}

// Limits is Nekzus's rate-limit table, applied per client address. Every
// Nekzus route that names a category counts against it (see Handlers.limit).
var Limits = map[Category]Rate{
	LimitHealth:     {Requests: 10, Per: time.Second, Burst: 50},
	LimitAuth:       {Requests: 10, Per: time.Minute, Burst: 10},
	LimitQR:         {Requests: 1, Per: time.Second, Burst: 5},
	LimitWebSocket:  {Requests: 6, Per: time.Minute, Burst: 3},
	LimitDevices:    {Requests: 30, Per: time.Minute, Burst: 30},
	LimitContainers: {Requests: 30, Per: time.Minute, Burst: 20},
	LimitGeneral:    {Requests: 30, Per: time.Minute, Burst: 30},
}

// Window is r as netkeep's fixed-window limiter counts it: Burst requests
// per the time Burst takes at the average rate. A client may spend its
// burst at once and then averages Requests per Per, and X-RateLimit-Limit
// shows the burst. (10/s, burst 50: 50 per 5 s.)
func (r Rate) Window() ratelimit.Limit {
	return ratelimit.Limit{Max: r.Burst, Window: r.Per * time.Duration(r.Burst) / time.Duration(r.Requests)}
}

// PairingGlobal bounds pairing-code redemptions from all addresses
// together, so that many addresses cannot share out the guessing.
var PairingGlobal = ratelimit.Limit{Max: 100, Window: time.Minute}

var errPairingLimited = fault.New(fault.RateLimited, "Too many pairing attempts, please try again later").
	WithReason(device.ReasonRateLimited)

// limit wraps next with category c's per-address limit.
func (h *Handlers) limit(c Category, next http.HandlerFunc) http.Handler {
	return api.LimitIP(h.IPLimiter, "nekzus-"+string(c), Limits[c].Window(), next)
}

// authFamily is the per-address count every Authentication endpoint
// draws on (see Register).
const authFamily = "nekzus-auth"

// authBudget is the per-address budget of Nekzus's Authentication
// endpoints: AuthLimit requests per minute, all at once if need be, or the
// document's 10 when AuthLimit is not set.
func (h *Handlers) authBudget() ratelimit.Limit {
	r := Limits[LimitAuth]
	if h.AuthLimit > 0 {
		r.Requests, r.Burst = h.AuthLimit, h.AuthLimit
	}
	return r.Window()
}

// limitAuth counts a request to one of Nekzus's Authentication endpoints
// against the budget they share per address (RATE_LIMIT_EXCEEDED over it).
// me and logout also spend their user's session budget: the headers show
// whichever has fewer requests left.
func (h *Handlers) limitAuth(next http.Handler) http.Handler {
	return api.LimitIPTighter(h.AuthLimiter, authFamily, h.authBudget(), next)
}

// limitPairing is the redemption's limits: the Authentication budget per
// address, and PairingGlobal for all addresses, both answered RATE_LIMITED
// as the document's 429 example shows.
func (h *Handlers) limitPairing(next http.HandlerFunc) http.Handler {
	global := api.LimitShared(h.IPLimiter, "nekzus-pair-global", PairingGlobal, errPairingLimited, next)
	return api.LimitBy(h.AuthLimiter, func(r *http.Request) string { return authFamily + "|" + api.ClientIP(r.Context()) },
		h.authBudget(), errPairingLimited, global)
}
