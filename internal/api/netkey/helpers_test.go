package netkey_test

import (
	"net/http"
	"reflect"
	"sort"
	"testing"

	"netkeep/internal/server/servertest"
)

const password = "correct-horse-battery"

// keysOf returns m's keys, sorted.
func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// wantKeys fails unless m has exactly the keys want.
func wantKeys(tb testing.TB, what string, m any, want ...string) {
	tb.Helper()
	obj, ok := m.(map[string]any)
	if !ok {
		tb.Fatalf("%s: not an object: %#v", what, m)
	}
	sort.Strings(want)
	if got := keysOf(obj); !reflect.DeepEqual(got, want) {
		tb.Fatalf("%s: keys = %v, want %v", what, got, want)
	}
}

// wantNetKeyError fails unless r is NetKey's error envelope with status and code.
func wantNetKeyError(tb testing.TB, r *servertest.Response, status int, code string) {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status = %d, want %d: %s", r.Status, status, r.Raw)
	}
	if r.JSON["success"] != false || r.JSON["error"] == "" || r.JSON["error"] == nil {
		tb.Fatalf("not a NetKey error envelope: %s", r.Raw)
	}
	if code != "" && r.JSON["code"] != code {
		tb.Fatalf("code = %v, want %s: %s", r.JSON["code"], code, r.Raw)
	}
}

// refreshCookie returns the refresh_token cookie r sets, or nil.
func refreshCookie(tb testing.TB, r *servertest.Response) *http.Cookie {
	tb.Helper()
	var found *http.Cookie
	for _, line := range r.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			tb.Fatalf("parsing Set-Cookie %q: %v", line, err)
		}
		if c.Name == "refresh_token" {
			found = c
		}
	}
	return found
}

// withCookie is the header pair presenting a refresh token.
func withCookie(token string) []string { return []string{"Cookie", "refresh_token=" + token} }

// session is a NetKey web login.
type session struct {
	token   string // access token
	refresh string // refresh cookie value
}

// login logs in through POST /api/auth/login.
func login(tb testing.TB, e *servertest.Env, username, pw string) session {
	tb.Helper()
	r := e.Do(tb, "POST", "/api/auth/login", map[string]any{"username": username, "password": pw})
	if r.Status != http.StatusOK {
		tb.Fatalf("login %s: %d %s", username, r.Status, r.Raw)
	}
	c := refreshCookie(tb, r)
	if c == nil {
		tb.Fatalf("login %s: no refresh cookie", username)
	}
	return session{token: r.JSON["token"].(string), refresh: c.Value}
}
