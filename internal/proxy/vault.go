package proxy

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/device"
)

// CookieVault keeps the cookies proxied apps set in paired devices'
// webviews, sealed at rest (internal/device): a phone's webview loses its
// cookie jar whenever the OS reclaims it, and the vault keeps the device
// signed in to its apps across that.
type CookieVault interface {
	// Cookies returns the device's unexpired cookies for the app.
	Cookies(ctx context.Context, deviceID, appID string) ([]device.Cookie, error)
	// SaveCookies stores (or, expired, retires) cookies the app set.
	SaveCookies(ctx context.Context, src audit.Source, deviceID, appID string, cs []device.Cookie) error
}

// vaultDevice is the device whose vault a request through the proxy uses:
// the caller's, when it authenticated with a device token; "" otherwise
// (users, API keys, anonymous callers of public routes keep their cookies
// in their own browser).
func (p *Proxy) vaultDevice(r *http.Request) string {
	if p.opts.Cookies == nil {
		return ""
	}
	if pr := api.PrincipalFrom(r.Context()); pr != nil && pr.Kind == authz.KindDevice {
		return pr.Subject
	}
	return ""
}

// vaultKey carries a device request's vault state from ServeHTTP to the
// rewrite and the answer.
type vaultKey struct{}

type vaultState struct {
	device  string
	cookies []device.Cookie
}

func vaultOf(r *http.Request) *vaultState {
	vs, _ := r.Context().Value(vaultKey{}).(*vaultState)
	return vs
}

// withVault loads the device's stored cookies for the app into r's context.
func (p *Proxy) withVault(r *http.Request, deviceID, appID string) (*http.Request, error) {
	cs, err := p.opts.Cookies.Cookies(r.Context(), deviceID, appID)
	if err != nil {
		return nil, err
	}
	// RFC 6265 5.4: cookies with longer paths first.
	slices.SortStableFunc(cs, func(a, b device.Cookie) int { return len(b.Path) - len(a.Path) })
	return r.WithContext(context.WithValue(r.Context(), vaultKey{}, &vaultState{device: deviceID, cookies: cs})), nil
}

// withVaultCookies adds to out the device's stored cookies for the app
// whose path matches the upstream path, leaving alone any the webview sent
// itself (it holds the newer value).
func withVaultCookies(out *http.Request, stored []device.Cookie) {
	if len(stored) == 0 {
		return
	}
	sent := map[string]bool{}
	for _, c := range out.Cookies() {
		sent[c.Name] = true
	}
	var b strings.Builder
	b.WriteString(out.Header.Get("Cookie"))
	for _, c := range stored {
		if sent[c.Name] || !pathMatch(out.URL.Path, c.Path) {
			continue
		}
		sent[c.Name] = true
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString((&http.Cookie{Name: c.Name, Value: c.Value}).String())
	}
	if b.Len() > 0 {
		out.Header.Set("Cookie", b.String())
	}
}

// pathMatch is RFC 6265's path-match: cookie path p covers request path
// rp when it is rp, or a prefix of it ending at a "/".
func pathMatch(rp, p string) bool {
	if p == "" || p == "/" || rp == p {
		return true
	}
	return strings.HasPrefix(rp, p) && (strings.HasSuffix(p, "/") || rp[len(p)] == '/')
}

// saveVaultCookies stores the cookies an app's answer sets for the device.
// A cookie the app expires (Max-Age ≤ 0, or Expires in the past) is saved
// expired, which retires it. A failure is logged: the answer still goes
// to the webview, which holds the cookies for now.
func (p *Proxy) saveVaultCookies(resp *http.Response, deviceID, appID string) {
	set := resp.Cookies()
	if len(set) == 0 {
		return
	}
	now := time.Now()
	cs := make([]device.Cookie, 0, len(set))
	for _, c := range set {
		dc := device.Cookie{Name: c.Name, Value: c.Value, Path: c.Path, Domain: c.Domain, Secure: c.Secure, HTTPOnly: c.HttpOnly,
			SameSite: sameSite(c.SameSite)}
		switch {
		case c.MaxAge < 0:
			dc.ExpiresAt = &now
		case c.MaxAge > 0:
			t := now.Add(time.Duration(c.MaxAge) * time.Second)
			dc.ExpiresAt = &t
		case !c.Expires.IsZero():
			t := c.Expires
			dc.ExpiresAt = &t
		}
		cs = append(cs, dc)
	}
	r := resp.Request
	if err := p.opts.Cookies.SaveCookies(r.Context(), api.Source(r), deviceID, appID, cs); err != nil {
		p.opts.Logger.Warn("saving an app's cookies for a device", "app", appID, "device", deviceID, "err", err)
	}
}

func sameSite(s http.SameSite) string {
	switch s {
	case http.SameSiteLaxMode:
		return "Lax"
	case http.SameSiteStrictMode:
		return "Strict"
	case http.SameSiteNoneMode:
		return "None"
	}
	return ""
}
