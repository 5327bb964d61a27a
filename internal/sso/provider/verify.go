package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/sso"
)

// accessClaims are the claims of an access token the provider issued.
type accessClaims struct {
	jwt.RegisteredClaims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	kid      string // the signing key it named (kept with verified tokens)
}

var errBadToken = fault.New(fault.Unauthorized, "invalid or expired token")

// Issued reports, cheaply and without verifying, whether token has the
// shape of the provider's access tokens (an ES256 JWT naming a key id), so
// the API sends it here rather than to identity (whose tokens are HS256).
func (p *Provider) Issued(token string) bool {
	head, _, ok := strings.Cut(token, ".")
	if !ok || len(head) > 512 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return false
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	return json.Unmarshal(raw, &h) == nil && h.Alg == "ES256" && h.Kid != ""
}

// AuthenticateDelegated verifies an access token the provider issued (a
// published signing key, not expired) and returns its principal: the user
// who consented, acting through the client within the token's scopes and
// never beyond the user's current role. A revoked grant, a disabled user or
// a deleted client make it unauthorized at once.
//
// The signature and claims of a token are checked once (ES256 costs tens of
// microseconds) and remembered until it expires, while its key stays
// published; the grant, user and client are checked on every call.
func (p *Provider) AuthenticateDelegated(ctx context.Context, token string) (*authz.Principal, error) {
	_, keys, err := p.sso.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	published := func(kid string) *sso.Key {
		for i := range keys {
			if keys[i].ID == kid {
				return &keys[i]
			}
		}
		return nil
	}
	c, ok := p.verified.Get(token, p.sso.Now())
	if !ok || published(c.kid) == nil {
		c = &accessClaims{}
		_, err = jwt.ParseWithClaims(token, c, func(t *jwt.Token) (any, error) {
			c.kid, _ = t.Header["kid"].(string)
			if k := published(c.kid); k != nil {
				return &k.Private.PublicKey, nil
			}
			return nil, errBadToken
		}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(p.sso.Now))
		if err != nil || c.ID == "" || c.ClientID == "" {
			return nil, errBadToken
		}
		p.verified.Put(token, c)
	}
	userID, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil {
		return nil, errBadToken
	}
	return p.sso.TokenPrincipal(ctx, userID, tokenSession(c.ID), c.ClientID, strings.Fields(c.Scope))
}
