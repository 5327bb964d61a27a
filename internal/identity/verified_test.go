package identity_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"netkeep/internal/identity"
)

func TestVerifiedTokens(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	claims := func(exp time.Time) *identity.AccessClaims {
		return &identity.AccessClaims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(exp)}}
	}
	var v identity.VerifiedTokens[*identity.AccessClaims]
	if _, ok := v.Get("unknown", now); ok {
		t.Fatal("the zero cache knows a token")
	}
	live, expired := claims(now.Add(time.Minute)), claims(now)
	v.Put("live", live)
	v.Put("expired", expired)
	v.Put("no-expiry", &identity.AccessClaims{})
	cases := map[string]struct {
		token string
		at    time.Time
		want  *identity.AccessClaims
	}{
		"remembered and unexpired":      {"live", now, live},
		"expires at exactly now":        {"expired", now, nil},
		"remembered, later expired":     {"live", now.Add(time.Minute), nil},
		"claims without expiry refused": {"no-expiry", now, nil},
		"never put":                     {"other", now, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := v.Get(tc.token, tc.at)
			if ok != (tc.want != nil) || got != tc.want {
				t.Errorf("Get(%q) = %v, %v; want %v", tc.token, got, ok, tc.want)
			}
		})
	}
}
