package provider_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// browser is a cookie-keeping HTTP client that stops at the client's
// redirect URI (which is never served) and submits netkeep's pages the
// way a browser does (same-origin Origin header).
type browser struct {
	c      *http.Client
	origin string
}

func newBrowser(tb testing.TB, origin, stopAt string) *browser {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &browser{origin: origin, c: &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), stopAt) {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

// page is a fetched page: where the browser ended up and its body.
type page struct {
	status int
	url    *url.URL
	body   string
	header http.Header
}

func (b *browser) do(tb testing.TB, req *http.Request) page {
	tb.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return page{status: res.StatusCode, url: res.Request.URL, body: sb.String(), header: res.Header}
}

func (b *browser) get(tb testing.TB, u string) page {
	tb.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return b.do(tb, req)
}

// submit posts a form to path on the origin, as a page of it would.
func (b *browser) submit(tb testing.TB, path string, form url.Values) page {
	tb.Helper()
	req, err := http.NewRequest("POST", b.origin+path, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.origin)
	return b.do(tb, req)
}

var hiddenID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// formID reads the request id a page's form carries.
func formID(tb testing.TB, p page) string {
	tb.Helper()
	m := hiddenID.FindStringSubmatch(p.body)
	if m == nil {
		tb.Fatalf("no request id on %s (%d): %s", p.url, p.status, p.body)
	}
	return m[1]
}

// redirectTo returns the Location a stopped redirect pointed to.
func redirectTo(tb testing.TB, p page) *url.URL {
	tb.Helper()
	loc := p.header.Get("Location")
	if loc == "" {
		tb.Fatalf("no redirect from %s (%d): %s", p.url, p.status, p.body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}
