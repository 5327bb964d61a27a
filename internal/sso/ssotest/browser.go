// Package ssotest drives single sign-on flows in tests like a browser: a
// cookie-keeping client that stops at a given redirect and submits
// netkeep's pages the way a page of the same origin does.
package ssotest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Browser is a cookie-keeping HTTP client that stops at redirects to
// stopAt (a client's redirect URI, never served) and submits forms as a
// page of Origin would.
type Browser struct {
	C      *http.Client
	Origin string
}

// NewBrowser returns a browser whose forms come from origin and which
// stops before following a redirect to a URL starting with one of stopAt.
func NewBrowser(tb testing.TB, origin string, stopAt ...string) *Browser {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &Browser{Origin: origin, C: &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		for _, s := range stopAt {
			if strings.HasPrefix(r.URL.String(), s) {
				return http.ErrUseLastResponse
			}
		}
		return nil
	}}}
}

// Page is a fetched page: where the browser ended up and its body.
type Page struct {
	Status int
	URL    *url.URL
	Body   string
	Header http.Header
}

// Do sends req and reads the answer.
func (b *Browser) Do(tb testing.TB, req *http.Request) Page {
	// A browser names itself (GateKey's own programs are told apart by
	// sending Go's default User-Agent).
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "Mozilla/5.0 (netkeep tests)")
	}
	tb.Helper()
	res, err := b.C.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var sb strings.Builder
	if _, err := io.Copy(&sb, res.Body); err != nil {
		tb.Fatal(err)
	}
	return Page{Status: res.StatusCode, URL: res.Request.URL, Body: sb.String(), Header: res.Header}
}

// Get fetches u.
func (b *Browser) Get(tb testing.TB, u string) Page {
	tb.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return b.Do(tb, req)
}

// Submit posts a form to path on the origin, as a page of it would.
func (b *Browser) Submit(tb testing.TB, path string, form url.Values) Page {
	tb.Helper()
	req, err := http.NewRequest("POST", b.Origin+path, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.Origin)
	return b.Do(tb, req)
}

var hiddenID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// FormID reads the request id a page's form carries.
func FormID(tb testing.TB, p Page) string {
	tb.Helper()
	m := hiddenID.FindStringSubmatch(p.Body)
	if m == nil {
		tb.Fatalf("no request id on %s (%d): %s", p.URL, p.Status, p.Body)
	}
	return m[1]
}

// RedirectTo returns the Location a stopped redirect pointed to.
func RedirectTo(tb testing.TB, p Page) *url.URL {
	tb.Helper()
	loc := p.Header.Get("Location")
	if loc == "" {
		tb.Fatalf("no redirect from %s (%d): %s", p.URL, p.Status, p.Body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// Authorize runs a browser from a netkeep provider's authorize URL through
// its sign-in and consent pages (allowing) and returns the browser's last
// page: the redirect back to the client, not followed when it starts with
// the browser's stopAt.
func Authorize(tb testing.TB, b *Browser, authURL, username, password string) Page {
	tb.Helper()
	p := b.Get(tb, authURL)
	if p.URL.Path != "/api/v1/auth/oauth2/login" || p.Status != http.StatusOK {
		tb.Fatalf("authorize did not lead to sign-in: %s %d %s", p.URL, p.Status, p.Body)
	}
	id := FormID(tb, p)
	p = b.Submit(tb, "/api/v1/auth/oauth2/login", url.Values{"id": {id}, "username": {username}, "password": {password}})
	if p.URL.Path != "/api/v1/auth/oauth2/consent" || p.Status != http.StatusOK {
		tb.Fatalf("sign-in did not lead to consent: %s %d %s", p.URL, p.Status, p.Body)
	}
	return b.Submit(tb, "/api/v1/auth/oauth2/consent", url.Values{"id": {id}, "decision": {"allow"}})
}

// Consent is Authorize for a browser already signed in to the provider:
// authorize leads straight to the consent page, which it allows.
func Consent(tb testing.TB, b *Browser, authURL string) Page {
	tb.Helper()
	p := b.Get(tb, authURL)
	if p.URL.Path != "/api/v1/auth/oauth2/consent" || p.Status != http.StatusOK {
		tb.Fatalf("authorize did not lead to consent: %s %d %s", p.URL, p.Status, p.Body)
	}
	return b.Submit(tb, "/api/v1/auth/oauth2/consent", url.Values{"id": {FormID(tb, p)}, "decision": {"allow"}})
}
