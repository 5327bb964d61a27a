package api

import (
	"net/http"
	"regexp"
	"strconv"
)

var hostPattern = regexp.MustCompile(`^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$`)

// BaseURL is the server's URL for links it gives out (access strings, the
// install script, pairing QR codes): publicURL when configured (validated
// by config), or the URL as the client reached it, from X-Forwarded-Proto
// and X-Forwarded-Host only when trustProxy. The host is checked strictly:
// it may be echoed into a shell script.
func BaseURL(r *http.Request, publicURL string, trustProxy bool) string {
	if publicURL != "" {
		return publicURL
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if trustProxy {
		if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
			scheme = p
		}
		if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
			host = fh
		}
	}
	m := hostPattern.FindStringSubmatch(host)
	if m == nil {
		return scheme + "://localhost"
	}
	if m[2] != "" {
		if n, _ := strconv.Atoi(m[2][1:]); n > 65535 {
			return scheme + "://localhost"
		}
	}
	return scheme + "://" + host
}
