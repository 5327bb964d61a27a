package samlsp_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"html"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml/samlidp"

	"netkeep/internal/config"
	"netkeep/internal/server/servertest"
	"netkeep/internal/sso/ssotest"
)

// startIdP runs crewjam's samlidp with one user and returns its URL.
func startIdP(tb testing.TB) *httptest.Server {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	srv := httptest.NewUnstartedServer(nil)
	u, _ := url.Parse("http://" + srv.Listener.Addr().String())
	idp, err := samlidp.New(samlidp.Options{URL: *u, Key: key, Certificate: cert, Store: &samlidp.MemoryStore{},
		Logger: log.New(io.Discard, "", 0)})
	if err != nil {
		tb.Fatal(err)
	}
	srv.Config.Handler = idp
	srv.Start()
	tb.Cleanup(srv.Close)
	put(tb, srv.URL+"/users/carol", `{"name": "carol", "password": "hunter22", "email": "carol@example.com", "common_name": "Carol C", "groups": ["admins"]}`)
	return srv
}

func put(tb testing.TB, u, body string) {
	tb.Helper()
	req, _ := http.NewRequest("PUT", u, strings.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		tb.Fatalf("PUT %s: %d", u, res.StatusCode)
	}
}

var field = regexp.MustCompile(`name="(SAMLResponse|RelayState)" value="([^"]*)"`)

// samlResponse signs carol in at the IdP from rp's login and returns the
// form the IdP's page would post to rp's ACS.
func samlResponse(tb testing.TB, rp *servertest.Env, idp string) url.Values {
	tb.Helper()
	b := ssotest.NewBrowser(tb, idp, rp.URL+"/")
	p := b.Get(tb, rp.URL+"/api/v1/auth/saml/corp/login?redirect=/vpn")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `name="password"`) {
		tb.Fatalf("login did not reach the IdP's form: %s %d %s", p.URL, p.Status, p.Body)
	}
	form := url.Values{"user": {"carol"}, "password": {"hunter22"}}
	for _, m := range regexp.MustCompile(`name="(SAMLRequest|RelayState)" value="([^"]*)"`).FindAllStringSubmatch(p.Body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	action := regexp.MustCompile(`action="([^"]+)"`).FindStringSubmatch(p.Body)
	if action == nil {
		tb.Fatalf("no form action: %s", p.Body)
	}
	to, err := url.Parse(html.UnescapeString(action[1]))
	if err != nil {
		tb.Fatal(err)
	}
	p = b.Submit(tb, to.Path, form)
	out := url.Values{}
	for _, m := range field.FindAllStringSubmatch(p.Body, -1) {
		out.Set(m[1], html.UnescapeString(m[2]))
	}
	if out.Get("SAMLResponse") == "" {
		tb.Fatalf("the IdP posted no SAMLResponse: %d %s", p.Status, p.Body)
	}
	return out
}

func postACS(tb testing.TB, rp *servertest.Env, form url.Values) *http.Response {
	tb.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.PostForm(rp.URL+"/api/v1/auth/saml/corp/acs", form)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { res.Body.Close() })
	return res
}

var signature = regexp.MustCompile(`(?s)<ds:Signature[ >].*?</ds:Signature>`)

func TestSAMLAgainstCrewjamIdP(t *testing.T) {
	rp := servertest.Start(t, config.SQLite)
	idp := startIdP(t)
	r := rp.Do(t, "POST", "/api/v1/sso/providers", map[string]any{"name": "corp", "type": "saml", "display_name": "Corp SAML",
		"settings": map[string]any{"metadata_url": idp.URL + "/metadata", "username_claim": "uid", "email_claim": "mail"}},
		servertest.Master()...)
	if r.Status != http.StatusCreated {
		t.Fatalf("configuring the provider: %d %s", r.Status, r.Raw)
	}
	// The IdP administrator imports netkeep's SP metadata.
	meta, err := http.Get(rp.URL + "/api/v1/auth/saml/corp/metadata")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(meta.Body)
	meta.Body.Close()
	if meta.StatusCode != http.StatusOK || !strings.Contains(buf.String(), "/api/v1/auth/saml/corp/acs") {
		t.Fatalf("SP metadata: %d %s", meta.StatusCode, buf.String())
	}
	put(t, idp.URL+"/services/netkeep", buf.String())

	form := samlResponse(t, rp, idp.URL)
	res := postACS(t, rp, form)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/vpn" {
		t.Fatalf("ACS: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	var cookie string
	for _, c := range res.Cookies() {
		if c.Name == "netkeep_session" {
			cookie = c.Value
		}
	}
	s := rp.Do(t, "GET", "/api/v1/auth/session", nil, servertest.Cookie(cookie)...)
	user, _ := s.JSON["data"].(map[string]any)["user"].(map[string]any)
	if s.Status != http.StatusOK || user["username"] != "carol" || user["email"] != "carol@example.com" {
		t.Fatalf("session: %d %s", s.Status, s.Raw)
	}

	unsigned := func() url.Values {
		f := samlResponse(t, rp, idp.URL)
		raw, err := base64.StdEncoding.DecodeString(f.Get("SAMLResponse"))
		if err != nil {
			t.Fatal(err)
		}
		stripped := signature.ReplaceAll(raw, nil)
		if bytes.Equal(stripped, raw) {
			t.Fatal("the response carried no signature to strip")
		}
		f.Set("SAMLResponse", base64.StdEncoding.EncodeToString(stripped))
		return f
	}
	for _, tc := range []struct {
		name string
		form url.Values
		code int
	}{
		{"replayed assertion", form, http.StatusUnauthorized},
		{"unsigned assertion", unsigned(), http.StatusUnauthorized},
		{"forged relay state", func() url.Values {
			f := samlResponse(t, rp, idp.URL)
			f.Set("RelayState", "forged")
			return f
		}(), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := postACS(t, rp, tc.form)
			if res.StatusCode != tc.code {
				t.Errorf("ACS: %d, want %d", res.StatusCode, tc.code)
			}
			for _, c := range res.Cookies() {
				if c.Name == "netkeep_session" && c.Value != "" {
					t.Error("a refused response set a session cookie")
				}
			}
		})
	}
}
