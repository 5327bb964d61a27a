package netkey

import (
	"net/http"
	"time"
)

// The refresh token lives in an HttpOnly cookie scoped to /api/auth, so the
// browser sends it to login, refresh and logout only, and scripts never see it.
const (
	refreshCookie = "refresh_token"
	cookiePath    = "/api/auth"
)

// setRefreshCookie hands the browser a refresh token valid until expires
// (the session's absolute end: 14 days, 30 with remember_me).
func setRefreshCookie(w http.ResponseWriter, token string, expires, now time.Time) {
	maxAge := int(expires.Sub(now) / time.Second)
	if maxAge < 1 {
		maxAge = 1
	}
	http.SetCookie(w, &http.Cookie{
		Name: refreshCookie, Value: token, Path: cookiePath, MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
	})
}

// clearRefreshCookie tells the browser to drop the refresh token; Expires is
// there for clients that ignore Max-Age.
func clearRefreshCookie(w http.ResponseWriter) {
	w.Header().Add("Set-Cookie", refreshCookie+"=; Path="+cookiePath+
		"; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax")
}

// refreshToken returns the refresh token cookie's value, or "".
func refreshToken(r *http.Request) string {
	c, err := r.Cookie(refreshCookie)
	if err != nil {
		return ""
	}
	return c.Value
}
