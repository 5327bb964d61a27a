package netkey_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/api/netkey"
	"netkeep/internal/server/servertest"
)

// rawPost sends a POST of path to base over its own connection: the
// headers with Content-Length length, then sent (which may be shorter),
// then, when halfClose, the end of the client's side. It returns the
// response, read within 20 seconds.
func rawPost(t *testing.T, base, path string, headers []string, length int, sent string, halfClose bool) *servertest.Response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var req strings.Builder
	fmt.Fprintf(&req, "POST %s HTTP/1.1\r\nHost: netkeep\r\nContent-Length: %d\r\n", path, length)
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&req, "%s: %s\r\n", headers[i], headers[i+1])
	}
	req.WriteString("\r\n")
	req.WriteString(sent)
	if _, err := io.WriteString(conn, req.String()); err != nil {
		t.Fatal(err)
	}
	if halfClose {
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer res.Body.Close()
	out := &servertest.Response{Status: res.StatusCode, Header: res.Header}
	out.Raw, _ = io.ReadAll(res.Body)
	_ = json.Unmarshal(out.Raw, &out.JSON)
	return out
}

// TestPSKImportRefusals: who may not import, and uploads that are the
// client's fault, are answered in NetKey's envelope with a 4xx and store
// nothing.
func TestPSKImportRefusals(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		userKey := f.apiKey(t, f.user, "psks:read", "psks:write", "endpoints:write")
		adminKey := f.apiKey(t, f.admin, "psks:read", "psks:write", "endpoints:write")
		const boundary = "netkeep-boundary"
		unclosed := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.csv\"\r\n" +
			"Content-Type: text/csv\r\n\r\npsk_id\nmp-1\nmp-2\n"
		csv := "psk_id,description\nslow-1,first\nslow-2,second\n"
		cases := []struct {
			name   string
			send   func(t *testing.T) *servertest.Response
			status int
			code   string
		}{
			{"403/USER session", func(t *testing.T) *servertest.Response {
				return postAs(t, e, "/api/v1/psks/import", "text/csv", []byte(csv), f.user)
			}, http.StatusForbidden, "FORBIDDEN"},
			{"403/USER key with psks:write", func(t *testing.T) *servertest.Response {
				return postAs(t, e, "/api/v1/psks/import", "text/csv", []byte(csv), userKey)
			}, http.StatusForbidden, "FORBIDDEN"},
			{"400/multipart without its closing boundary", func(t *testing.T) *servertest.Response {
				return postAs(t, e, "/api/v1/psks/import", "multipart/form-data; boundary="+boundary, []byte(unclosed), f.admin)
			}, http.StatusBadRequest, "VALIDATION_ERROR"},
			{"400/body shorter than its length", func(t *testing.T) *servertest.Response {
				return rawPost(t, e.URL, "/api/v1/psks/import", []string{"Content-Type", "text/csv", adminKey[0], adminKey[1]},
					len(csv)+500, csv, true)
			}, http.StatusBadRequest, "VALIDATION_ERROR"},
			{"400/multipart body shorter than its length", func(t *testing.T) *servertest.Response {
				return rawPost(t, e.URL, "/api/v1/psks/import", []string{"Content-Type", "multipart/form-data; boundary=" + boundary,
					f.admin[0], f.admin[1]}, len(unclosed)+500, unclosed, true)
			}, http.StatusBadRequest, "VALIDATION_ERROR"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.send(t)
				pskWantError(t, r, tc.status, tc.code)
				if n := total(t, e.Do(t, "GET", "/api/v1/psks?limit=1", nil, f.admin...)); n != 0 {
					t.Fatalf("%d PSKs stored after a refused import", n)
				}
			})
		}
		// The admin's key imports.
		r := postAs(t, e, "/api/v1/psks/import", "text/csv", []byte(csv), adminKey)
		if r.Status != http.StatusCreated || r.JSON["imported"] != float64(2) {
			t.Fatalf("admin key import: %d %s", r.Status, r.Raw)
		}
	})
}

// TestPSKImportUploadDeadline: an upload trickled past the route's import
// timeout is answered 408 in NetKey's envelope, whatever the server's own
// timeouts, and stores nothing; within it, an upload is imported.
func TestPSKImportUploadDeadline(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newPSKFixture(t, e)
		rt := api.NewRouter(&api.Authenticator{Access: e.Server.Identity, Keys: e.Server.APIKeys, MasterKey: servertest.MasterKey})
		(&netkey.Handlers{PSKs: e.Server.PSKs, ImportTimeout: 500 * time.Millisecond}).Register(rt)
		hs := httptest.NewServer(api.Wrap(rt, api.Options{MaxBodyBytes: 1 << 20}))
		t.Cleanup(hs.Close)
		path := fmt.Sprintf("/api/v1/psks/import?group_id=%d", f.acmeGroup)
		master := servertest.Master()
		csv := "psk_id\ntrickle-1\ntrickle-2\n"

		r := rawPost(t, hs.URL, path, []string{"Content-Type", "text/csv", master[0], master[1]}, len(csv)+100, csv, false)
		pskWantError(t, r, http.StatusRequestTimeout, "TIMEOUT")
		if n := total(t, e.Do(t, "GET", "/api/v1/psks?limit=1", nil, f.admin...)); n != 0 {
			t.Fatalf("%d PSKs stored after a timed-out import", n)
		}
		r = rawPost(t, hs.URL, path, []string{"Content-Type", "text/csv", master[0], master[1]}, len(csv), csv, false)
		if r.Status != http.StatusCreated || r.JSON["imported"] != float64(2) {
			t.Fatalf("import within the deadline: %d %s", r.Status, r.Raw)
		}
	})
}
