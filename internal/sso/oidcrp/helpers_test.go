package oidcrp_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"netkeep/internal/sso/ssotest"
)

func newJar() (http.CookieJar, error) { return cookiejar.New(nil) }

func contains(s, sub string) bool { return strings.Contains(strings.ReplaceAll(s, " ", ""), sub) }

func cookieNamed(h http.Header, name string) string {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name && c.Value != "" {
			return c.Value
		}
	}
	return ""
}

// stateCookie returns the login state cookie the browser holds for cb.
func stateCookie(b *ssotest.Browser, cb *url.URL) string {
	for _, c := range b.C.Jar.Cookies(cb) {
		if c.Name == "netkeep_sso_state" {
			return c.Value
		}
	}
	return ""
}

func setStateCookie(b *ssotest.Browser, cb *url.URL, v string) {
	b.C.Jar.SetCookies(cb, []*http.Cookie{{Name: "netkeep_sso_state", Value: v, Path: "/api/v1/auth/"}})
}
