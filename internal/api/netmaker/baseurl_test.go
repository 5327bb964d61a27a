package netmaker

import (
	"net/http/httptest"
	"testing"
)

// baseURL's host ends up in a shell script: anything but a plain host and
// valid port becomes localhost.
func TestBaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, host, forwarded, want string
		trust                       bool
	}{
		{name: "host", host: "mesh.example:8080", want: "http://mesh.example:8080"},
		{name: "ipv6 with port", host: "[::1]:8080", want: "http://[::1]:8080"},
		{name: "ipv6 without port", host: "[::1]", want: "http://[::1]"},
		{name: "port out of range", host: "mesh.example:99999", want: "http://localhost"},
		{name: "shell metacharacters", host: "evil';rm -rf ~;'", want: "http://localhost"},
		{name: "forwarded ignored", host: "mesh.example", forwarded: "other.example", want: "http://mesh.example"},
		{name: "forwarded trusted", host: "mesh.example", forwarded: "other.example", trust: true, want: "http://other.example"},
		{name: "forwarded hostile", host: "mesh.example", forwarded: "a b", trust: true, want: "http://localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Host = tc.host
			if tc.forwarded != "" {
				r.Header.Set("X-Forwarded-Host", tc.forwarded)
			}
			h := &MeshHandlers{TrustProxyHeaders: tc.trust}
			if got := h.baseURL(r); got != tc.want {
				t.Fatalf("baseURL(%q) = %q, want %q", tc.host, got, tc.want)
			}
		})
	}
	h := &MeshHandlers{PublicURL: "https://public.example"}
	if got := h.baseURL(httptest.NewRequest("GET", "/", nil)); got != "https://public.example" {
		t.Fatalf("with PublicURL: %q", got)
	}
}
