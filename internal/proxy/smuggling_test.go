package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Request smuggling: a request whose framing two HTTP parsers could read
// differently is refused, or forwarded with netkeep's own framing, so the
// upstream never sees a request netkeep did not route and authorise
// itself. Here the hidden request is "GET /admin-only", a path outside
// /apps/ that netkeep would never send to the app.
func TestRequestSmuggling(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string // "path body" of each request the upstream got
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.URL.Path+" "+string(body)+" "+r.Header.Get("X-Folded"))
		mu.Unlock()
		_, _ = io.WriteString(w, "upstream")
	}))
	defer up.Close()
	addr := serveApp(t, up.URL, nil)
	const hidden = "GET /admin-only HTTP/1.1\r\nHost: x\r\n\r\n"
	tests := []struct {
		name, raw string
		refused   string // netkeep answers this status and forwards nothing
	}{
		{"CL and TE both", "POST /apps/app/a HTTP/1.1\r\nHost: x\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + hidden, ""},
		{"TE and CL both", "POST /apps/app/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n" + hidden, ""},
		{"two different CLs", "POST /apps/app/a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\n" + hidden, "400"},
		{"TE not chunked last", "POST /apps/app/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + hidden, "501"},
		{"TE obfuscated", "POST /apps/app/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + hidden, "501"},
		{"TE with a space before the colon", "POST /apps/app/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + hidden, "400"},
		{"bad chunk size", "POST /apps/app/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + hidden + "\r\n0\r\n\r\n", ""},
		{"chunk size overflow", "POST /apps/app/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n" + hidden + "\r\n0\r\n\r\n", ""},
		{"obs-fold", "GET /apps/app/a HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n" + hidden, ""},
		{"bare LF in a header", "GET /apps/app/a HTTP/1.1\r\nHost: x\r\nX-Folded: a\nTransfer-Encoding: chunked\r\n\r\n" + hidden, ""},
	}
	for _, tc := range tests {
		mu.Lock()
		seen = nil
		mu.Unlock()
		got := rawExchange(t, addr, tc.raw)
		mu.Lock()
		forwarded := append([]string(nil), seen...)
		mu.Unlock()
		for _, s := range forwarded {
			if strings.Contains(s, "admin-only") || strings.Contains(s, "\n") {
				t.Errorf("%s: the upstream saw %q", tc.name, s)
			}
		}
		t.Logf("%s: %q %q", tc.name, got, forwarded)
		if tc.refused != "" && (!strings.HasPrefix(got, "HTTP/1.1 "+tc.refused) || len(forwarded) > 0) {
			t.Errorf("%s: not refused: answer %q, forwarded %q", tc.name, firstLine(got), forwarded)
		}
		// netkeep answers the hidden request itself when it reads it as
		// a request of its own: outside /apps/ it is not found.
		if strings.Count(got, "HTTP/1.1 ") > 1 && !strings.Contains(got, "HTTP/1.1 404") {
			t.Errorf("%s: the hidden request got an answer other than 404: %q", tc.name, got)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}
