package api

import (
	"net/http"
	"strconv"
	"strings"

	"netkeep/internal/fault"
)

// statusOf is the one table from error codes to HTTP status.
func statusOf(c fault.Code) int {
	switch c {
	case fault.NotFound:
		return http.StatusNotFound
	case fault.Invalid:
		return http.StatusBadRequest
	case fault.Conflict:
		return http.StatusConflict
	case fault.Unauthorized:
		return http.StatusUnauthorized
	case fault.Forbidden:
		return http.StatusForbidden
	case fault.RateLimited:
		return http.StatusTooManyRequests
	case fault.Unavailable:
		return http.StatusServiceUnavailable
	case fault.TooLarge:
		return http.StatusRequestEntityTooLarge
	case fault.MethodNotAllowed:
		return http.StatusMethodNotAllowed
	case fault.Timeout:
		return http.StatusRequestTimeout
	case fault.BadGateway:
		return http.StatusBadGateway
	case fault.GatewayTimeout:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// Error writes err in the envelope of the dialect owning r's route (or, for
// a path no route matches, its path). Errors without a code are shown as
// "internal error" and logged in full.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	ErrorAs(w, r, DialectOf(r), err)
}

// DialectOf returns the dialect owning r: its matched route's, else the one
// DialectFor gives its path.
func DialectOf(r *http.Request) Dialect {
	if st := requestOf(r.Context()); st != nil && st.routed {
		return st.dialect
	}
	return DialectFor(r.URL.Path)
}

// ErrorAs writes err in dialect d's envelope.
func ErrorAs(w http.ResponseWriter, r *http.Request, d Dialect, err error) {
	fe := fault.As(err)
	if fe == nil || fe.Code == fault.Internal {
		LoggerFrom(r.Context()).Error("internal error", "err", err, "request_id", RequestID(r.Context()))
		fe = fault.New(fault.Internal, "internal error")
	} else if fe.Cause != nil {
		LoggerFrom(r.Context()).Debug("request failed", "err", err)
	}
	status := statusOf(fe.Code)
	if secs, ok := fe.Details["retry_after"].(int); ok && fe.Code == fault.RateLimited && w.Header().Get("Retry-After") == "" {
		// A domain's own limit (login lockout) says when to come back as
		// the rate limiter's 429 does.
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	switch d {
	case NetKey:
		renderNetKey(w, status, fe)
	case GateKey:
		renderGateKey(w, status, fe)
	default:
		renderNekzus(w, status, fe)
	}
}

// renderNetKey: {"success": false, "error": msg, "code": "PSK_NOT_FOUND", "details": {...}}.
func renderNetKey(w http.ResponseWriter, status int, fe *fault.Error) {
	body := map[string]any{"success": false, "error": fe.Message, "code": reasonOr(fe, netKeyCode(fe.Code))}
	if fe.Details != nil {
		body["details"] = fe.Details
	}
	WriteJSON(w, status, body)
}

func netKeyCode(c fault.Code) string {
	switch c {
	case fault.Invalid:
		return "VALIDATION_ERROR"
	case fault.RateLimited:
		return "RATE_LIMIT_EXCEEDED"
	case fault.Internal:
		return "INTERNAL_ERROR"
	}
	return strings.ToUpper(string(c))
}

// renderGateKey: {"error": {"code": "unauthorized", "message": ...}} with the
// lower-case codes of the GateKey seed.
func renderGateKey(w http.ResponseWriter, status int, fe *fault.Error) {
	e := map[string]any{"code": strings.ToLower(reasonOr(fe, string(fe.Code))), "message": fe.Message}
	if fe.Details != nil {
		e["details"] = fe.Details
	}
	WriteJSON(w, status, map[string]any{"error": e})
}

// renderNekzus: {"error": {"code": "NOT_FOUND", "message": ...}}, the
// envelope of Nekzus, NetRecon, Netmaker and netkeep's own paths.
func renderNekzus(w http.ResponseWriter, status int, fe *fault.Error) {
	code := strings.ToUpper(string(fe.Code))
	switch fe.Code {
	case fault.RateLimited:
		code = "RATE_LIMIT_EXCEEDED"
	case fault.Internal:
		code = "INTERNAL_ERROR"
	case fault.Invalid:
		code = "BAD_REQUEST"
	case fault.Unavailable:
		code = "SERVICE_UNAVAILABLE"
	}
	e := map[string]any{"code": reasonOr(fe, code), "message": fe.Message}
	if fe.Details != nil {
		e["details"] = fe.Details
	}
	WriteJSON(w, status, map[string]any{"error": e})
}

// reasonOr is fe's reason in upper case (NetKey's and Nekzus's spelling),
// or def when it has none.
func reasonOr(fe *fault.Error, def string) string {
	if fe.Reason != "" {
		return strings.ToUpper(string(fe.Reason))
	}
	return def
}

// StatusOf is the HTTP status of an error code, for a transport that
// renders errors in its own form (the dashboard's pages).
func StatusOf(c fault.Code) int { return statusOf(c) }
