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
)

// accessClaims are the claims of an access token the provider issued.
type accessClaims struct {
	jwt.RegisteredClaims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
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
func (p *Provider) AuthenticateDelegated(ctx context.Context, token string) (*authz.Principal, error) {
	_, keys, err := p.sso.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	var c accessClaims
	_, err = jwt.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		for _, k := range keys {
			if k.ID == kid {
				return &k.Private.PublicKey, nil
			}
		}
		return nil, errBadToken
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(p.sso.Now))
	if err != nil || c.ID == "" || c.ClientID == "" {
		return nil, errBadToken
	}
	userID, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil {
		return nil, errBadToken
	}
	return p.sso.TokenPrincipal(ctx, userID, tokenSession(c.ID), c.ClientID, strings.Fields(c.Scope))
}
