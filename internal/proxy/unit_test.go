package proxy

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"netkeep/internal/catalog"
)

func TestRelocate(t *testing.T) {
	t.Parallel()
	mk := func(to string, strip bool) *upstream {
		u, _ := url.Parse(to)
		return &upstream{target: u, prefix: "/apps/g", entry: catalog.Entry{Route: &catalog.Route{StripPrefix: strip}}}
	}
	tests := []struct {
		name, to string
		strip    bool
		in, want string
	}{
		{"absolute path", "http://g:3000", true, "/login", "/apps/g/login"},
		{"upstream's own URL", "http://g:3000", true, "http://g:3000/login?x=1", "/apps/g/login?x=1"},
		{"upstream's root", "http://g:3000", true, "http://g:3000", "/apps/g/"},
		{"under the upstream's base path", "http://g:3000/sub", true, "/sub/login", "/apps/g/login"},
		{"another site", "http://g:3000", true, "https://idp.example/auth", "https://idp.example/auth"},
		{"scheme-relative", "http://g:3000", true, "//idp.example/auth", "//idp.example/auth"},
		{"relative", "http://g:3000", true, "next", "next"},
		{"app keeps the prefix", "http://g:3000", false, "/apps/g/login", "/apps/g/login"},
	}
	for _, tc := range tests {
		if got := mk(tc.to, tc.strip).relocate(tc.in); got != tc.want {
			t.Errorf("%s: relocate(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestStorableFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header http.Header
		creds  bool
		ttl    time.Duration // 0: not storable
	}{
		{"max-age", http.Header{"Cache-Control": {"max-age=60"}}, false, time.Minute},
		{"s-maxage wins", http.Header{"Cache-Control": {"max-age=60, s-maxage=10"}}, false, 10 * time.Second},
		{"no directive", http.Header{}, false, 0},
		{"private", http.Header{"Cache-Control": {"private, max-age=60"}}, false, 0},
		{"no-store", http.Header{"Cache-Control": {"no-store"}}, false, 0},
		{"no-cache", http.Header{"Cache-Control": {"no-cache, max-age=60"}}, false, 0},
		{"set-cookie", http.Header{"Cache-Control": {"max-age=60"}, "Set-Cookie": {"a=b"}}, false, 0},
		{"vary on encoding", http.Header{"Cache-Control": {"max-age=60"}, "Vary": {"Accept-Encoding"}}, false, time.Minute},
		{"vary on cookie", http.Header{"Cache-Control": {"max-age=60"}, "Vary": {"Cookie"}}, false, 0},
		{"credentials need public", http.Header{"Cache-Control": {"max-age=60"}}, true, 0},
		{"credentials and public", http.Header{"Cache-Control": {"public, max-age=60"}}, true, time.Minute},
	}
	for _, tc := range tests {
		ttl, ok := storableFor(&http.Response{Header: tc.header}, tc.creds)
		if ok != (tc.ttl > 0) || ttl != tc.ttl {
			t.Errorf("%s: %v %v, want %v", tc.name, ttl, ok, tc.ttl)
		}
	}
}

func TestIsLocal(t *testing.T) {
	t.Parallel()
	for ip, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "192.168.1.5": true, "10.0.0.1": true, "fd00::1": true, "fe80::1": true,
		"::ffff:192.168.1.5": true, "8.8.8.8": false, "2001:db8::1": false, "": false, "bogus": false,
	} {
		if got := isLocal(ip); got != want {
			t.Errorf("isLocal(%q) = %v, want %v", ip, got, want)
		}
	}
}

func TestCookiePathMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, request, cookie string
		want                  bool
	}{
		{"root covers all", "/a/b", "/", true},
		{"empty is root", "/a", "", true},
		{"same path", "/admin", "/admin", true},
		{"below it", "/admin/users", "/admin", true},
		{"cookie path ends in slash", "/admin/users", "/admin/", true},
		{"a longer name is not below it", "/administrator", "/admin", false},
		{"elsewhere", "/page", "/admin", false},
		{"shorter than the cookie's", "/ad", "/admin", false},
	}
	for _, tt := range tests {
		if got := pathMatch(tt.request, tt.cookie); got != tt.want {
			t.Errorf("%s: pathMatch(%q, %q) = %v", tt.name, tt.request, tt.cookie, got)
		}
	}
}
