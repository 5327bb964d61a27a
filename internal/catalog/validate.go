package catalog

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// The reasons of the catalog's errors (rendered by each dialect).
const (
	ReasonAppNotFound      fault.Reason = "app_not_found"
	ReasonRouteNotFound    fault.Reason = "route_not_found"
	ReasonProposalNotFound fault.Reason = "proposal_not_found"
	ReasonAppExists        fault.Reason = "app_exists"
	ReasonDiscoveryOff     fault.Reason = "discovery_disabled"
)

var (
	errAppNotFound      = fault.New(fault.NotFound, "app not found").WithReason(ReasonAppNotFound)
	errRouteNotFound    = fault.New(fault.NotFound, "route not found").WithReason(ReasonRouteNotFound)
	errProposalNotFound = fault.New(fault.NotFound, "discovery proposal not found").WithReason(ReasonProposalNotFound)
)

// appIDPattern is an app id: it is a path segment of /apps/{appId}/, so
// lower-case letters, digits and inner hyphens or underscores only.
var appIDPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$`)

// routeIDPattern is a route id ("route_grafana").
var routeIDPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,126}[A-Za-z0-9])?$`)

func invalidField(field, msg string) *fault.Error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": field})
}

// ValidAppID checks an app id.
func ValidAppID(id string) error {
	if !appIDPattern.MatchString(id) {
		return invalidField("appId", "appId must be 1 to 63 lower-case letters, digits, '-' or '_', starting and ending with a letter or digit")
	}
	return nil
}

func validRouteID(id string) error {
	if !routeIDPattern.MatchString(id) {
		return invalidField("routeId", "routeId must be 1 to 128 letters, digits, '.', '-' or '_'")
	}
	return nil
}

// ValidUpstream checks a route's upstream base URL: absolute http,
// https, or h2c (HTTP/2 without TLS, for upstreams that speak it with
// prior knowledge, such as gRPC-web servers), with a host, without credentials, query or fragment (the proxy
// appends the request's own), and returns it without a trailing slash.
func ValidUpstream(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		return "", invalidField("to", "to must be a URL such as http://grafana:3000")
	case u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "h2c":
		return "", invalidField("to", "to must be an http://, https:// or h2c:// URL")
	case u.Host == "" || u.Hostname() == "":
		return "", invalidField("to", "to must name a host")
	case u.User != nil:
		return "", invalidField("to", "to must not carry credentials")
	case u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", invalidField("to", "to must not carry a query or fragment")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", invalidField("to", "to has an invalid port")
		}
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// validScopes checks scope names (any product's vocabulary) and returns
// them trimmed, without duplicates; none means DefaultScopes.
func validScopes(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	if len(out) == 0 {
		return append([]string(nil), DefaultScopes...), nil
	}
	if _, err := authz.ParseScopes(out); err != nil {
		return nil, invalidField("scopes", fault.As(err).Message)
	}
	return out, nil
}

// DefaultScopes are a route's scopes when none are given: reading the
// catalog is what reaching an app through it takes.
var DefaultScopes = []string{"read:catalog"}

func validAuth(a Auth) (Auth, error) {
	switch a {
	case "":
		return AuthToken, nil
	case AuthToken, AuthLocal, AuthPublic:
		return a, nil
	}
	return "", invalidField("auth", "auth must be token, local or public")
}

func validTimeout(d time.Duration) (time.Duration, error) {
	switch {
	case d == 0:
		return DefaultTimeout, nil
	case d < 100*time.Millisecond || d > time.Hour:
		return 0, invalidField("timeout", "timeout must be from 0.1 to 3600 seconds")
	}
	return d, nil
}

func validLabel(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > max || strings.ContainsAny(s, "\x00\r\n") {
		return "", invalidField(field, field+" must be at most "+strconv.Itoa(max)+" characters on one line")
	}
	return s, nil
}

func validTags(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, t := range in {
		t, err := validLabel("tags", t, 64)
		if err != nil {
			return nil, err
		}
		if t != "" {
			out = append(out, t)
		}
	}
	if len(out) > 32 {
		return nil, invalidField("tags", "at most 32 tags")
	}
	return out, nil
}

func validEndpoints(in map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for k, v := range in {
		k, err := validLabel("endpoints", k, 32)
		if err != nil || k == "" {
			return nil, invalidField("endpoints", "endpoint names must be 1 to 32 characters")
		}
		u, err := ValidUpstream(v)
		if err != nil {
			return nil, invalidField("endpoints", "endpoint "+k+" must be an http(s) URL")
		}
		out[k] = u
	}
	return out, nil
}
