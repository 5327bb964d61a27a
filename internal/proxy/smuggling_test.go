package proxy_test

import (
	"fmt"
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
		// refused: netkeep answers this status and forwards nothing;
		// bad: netkeep answers 400, what the upstream saw ends there;
		// else the request is forwarded, the upstream seeing its path,
		// then upstream (body, X-Folded).
		refused, bad, upstream string
	}{
		{"CL and TE both", "POST /apps/app/a HTTP/1.1\r\nHost: x\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + hidden, "", "", "  "},
		{"TE and CL both", "POST /apps/app/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n" + hidden, "", "", "  "},
		{"two different CLs", "POST /apps/app/a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\n" + hidden, "400", "", ""},
		{"TE not chunked last", "POST /apps/app/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + hidden, "501", "", ""},
		{"TE obfuscated", "POST /apps/app/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + hidden, "501", "", ""},
		{"TE with a space before the colon", "POST /apps/app/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + hidden, "400", "", ""},
		{"bad chunk size", "POST /apps/app/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + hidden + "\r\n0\r\n\r\n", "", "400", ""},
		{"chunk size overflow", "POST /apps/app/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n" + hidden + "\r\n0\r\n\r\n", "", "400", ""},
		{"obs-fold", "GET /apps/app/a HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n" + hidden, "", "", "  a b"},
		{"bare LF in a header", "GET /apps/app/a HTTP/1.1\r\nHost: x\r\nX-Folded: a\nTransfer-Encoding: chunked\r\n\r\n" + hidden, "", "400", ""},
	}
	for i, tc := range tests {
		// Each case its own path: what the upstream saw of a case that
		// ended early may arrive during the next.
		path := fmt.Sprintf("/case%d", i)
		got := rawExchange(t, addr, strings.Replace(tc.raw, "/apps/app/a ", "/apps/app"+path+" ", 1))
		var forwarded []string
		mu.Lock()
		for _, s := range seen {
			if strings.HasPrefix(s, path+" ") || strings.Contains(s, "admin-only") {
				forwarded = append(forwarded, s)
			}
		}
		mu.Unlock()
		for _, s := range forwarded {
			if strings.Contains(s, "admin-only") || strings.Contains(s, "\n") {
				t.Errorf("%s: the upstream saw %q", tc.name, s)
			}
		}
		switch {
		case tc.refused != "":
			if !strings.HasPrefix(got, "HTTP/1.1 "+tc.refused) || len(forwarded) > 0 {
				t.Errorf("%s: not refused: answer %q, forwarded %q", tc.name, firstLine(got), forwarded)
			}
		case tc.bad != "":
			if !strings.HasPrefix(got, "HTTP/1.1 "+tc.bad) || !strings.Contains(got, `{"error":{"code":"BAD_REQUEST"`) {
				t.Errorf("%s: answer %q", tc.name, got)
			}
		default:
			if !strings.HasPrefix(got, "HTTP/1.1 200") || len(forwarded) != 1 || forwarded[0] != path+tc.upstream {
				t.Errorf("%s: answer %q, forwarded %q, want %q", tc.name, firstLine(got), forwarded, tc.upstream)
			}
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
