package proxy

import (
	"net"
	"net/http"
	"net/http/httputil"
	"strings"

	"netkeep/internal/api"
)

// rewrite builds the upstream request: only the route's host, the path
// after the prefix (or the whole path when the route keeps it), the
// forwarding headers, and none of netkeep's own credentials.
func (p *Proxy) rewrite(u *upstream) func(*httputil.ProxyRequest) {
	return func(pr *httputil.ProxyRequest) {
		in, out := pr.In, pr.Out
		if u.entry.Route.StripPrefix {
			out.URL.Path = strings.TrimPrefix(in.URL.Path, u.prefix)
			if in.URL.RawPath != "" {
				out.URL.RawPath = strings.TrimPrefix(in.URL.RawPath, u.prefix)
			}
			if out.URL.Path == "" {
				out.URL.Path = "/"
			}
			out.Header.Set("X-Forwarded-Prefix", u.prefix)
		}
		// SetURL keeps nothing of the client's URL but its path and query,
		// and sends the upstream's own Host: a client cannot pick the host
		// (absolute-form request lines, Host headers) the request goes to.
		pr.SetURL(u.target)
		if p.opts.TrustProxyHeaders {
			if prior := in.Header.Values("X-Forwarded-For"); len(prior) > 0 {
				out.Header["X-Forwarded-For"] = append([]string(nil), prior...)
			}
		}
		pr.SetXForwarded()
		out.Header.Set("Forwarded", forwarded(in))
		stripCredentials(in, out)
		if vs := vaultOf(in); vs != nil {
			withVaultCookies(out, vs.cookies)
		}
	}
}

// forwarded is the RFC 7239 Forwarded header for the hop into netkeep.
func forwarded(in *http.Request) string {
	ip, _, err := net.SplitHostPort(in.RemoteAddr)
	if err != nil {
		ip = in.RemoteAddr
	}
	if strings.Contains(ip, ":") {
		ip = `"[` + ip + `]"`
	}
	proto := "http"
	if in.TLS != nil {
		proto = "https"
	}
	return "for=" + ip + ";host=" + quoteIfNeeded(in.Host) + ";proto=" + proto
}

func quoteIfNeeded(s string) string {
	if strings.ContainsAny(s, ":[]\" ;,") {
		return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
	}
	return s
}

// stripCredentials removes what authenticated the caller to netkeep: the
// session cookie always, Authorization and X-API-Key when netkeep accepted
// them (on a public route an invalid one is the upstream's business).
func stripCredentials(in, out *http.Request) {
	if cookies := in.Cookies(); len(cookies) > 0 {
		kept := make([]string, 0, len(cookies))
		for _, c := range cookies {
			if c.Name != api.SessionCookie {
				kept = append(kept, c.Name+"="+c.Value)
			}
		}
		out.Header.Del("Cookie")
		if len(kept) > 0 {
			out.Header.Set("Cookie", strings.Join(kept, "; "))
		}
	}
	if api.PrincipalFrom(in.Context()) != nil {
		out.Header.Del("Authorization")
		out.Header.Del("X-Api-Key")
	}
}

// modifyResponse keeps the upstream's redirects inside the app's path and
// offers cacheable answers to the cache.
func (p *Proxy) modifyResponse(u *upstream) func(*http.Response) error {
	return func(resp *http.Response) error {
		if streams(resp) {
			api.Unbounded(resp.Request.Context())
		}
		if loc := resp.Header.Get("Location"); loc != "" {
			resp.Header.Set("Location", u.relocate(loc))
		}
		if vs := vaultOf(resp.Request); vs != nil {
			p.saveVaultCookies(resp, vs.device, u.entry.App.ID)
		}
		if u.entry.Route.Cache {
			p.cache.offer(resp)
		}
		return nil
	}
}

// relocate maps a redirect the upstream gave in its own terms (an absolute
// path, or its own URL) to the same place under the app's proxy path.
func (u *upstream) relocate(loc string) string {
	base := strings.TrimSuffix(u.target.String(), "/")
	switch {
	case strings.HasPrefix(loc, base+"/") || loc == base:
		loc = strings.TrimPrefix(loc, base)
		if loc == "" {
			loc = "/"
		}
	case !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//"):
		return loc // another site, or relative to the current path
	}
	if !u.entry.Route.StripPrefix {
		return loc
	}
	if tp := strings.TrimSuffix(u.target.Path, "/"); tp != "" {
		loc = strings.TrimPrefix(loc, tp)
	}
	return u.prefix + loc
}
