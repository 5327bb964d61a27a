package provider

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/sso"
)

// Users is what the provider needs of identity for claims.
type Users interface {
	UserState(ctx context.Context, id int64) (identity.UserState, error)
	UserProfile(ctx context.Context, id int64) (*identity.User, error)
}

// storage implements op.Storage over the sso domain.
//
// Token ids: an access token's jti is "<session>.<random>", naming its
// grant; a refresh token's id (for revocation) is "rt:<session>".
type storage struct {
	sso      *sso.Service
	users    Users
	loginURL string
}

var _ op.Storage = (*storage)(nil)

// source is the audit source of a protocol request: its client address.
func source(ctx context.Context) audit.Source { return audit.Source{IP: api.ClientIP(ctx)} }

func randomID() string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenSession(tokenID string) string {
	if sid, ok := strings.CutPrefix(tokenID, "rt:"); ok {
		return sid
	}
	sid, _, _ := strings.Cut(tokenID, ".")
	return sid
}

func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	c, err := s.sso.Client(ctx, req.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	if c.Public && (req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256) {
		return nil, oidc.ErrInvalidRequest().WithDescription("public clients must use PKCE with S256 (code_challenge, code_challenge_method=S256)")
	}
	raw, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	r, err := s.sso.CreateAuthRequest(ctx, req.ClientID, raw)
	if err != nil {
		return nil, err
	}
	return newAuthRequest(r)
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.sso.AuthRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	return newAuthRequest(r)
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.sso.AuthRequestByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	return newAuthRequest(r)
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.sso.SaveCode(ctx, id, code)
}

func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	return s.sso.DeleteAuthRequest(ctx, id)
}

// CreateAccessToken: a code exchanged without offline_access opens a grant
// with no refresh token.
func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	exp := s.sso.Now().Add(s.sso.Config().AccessTTL)
	switch r := req.(type) {
	case *authRequest:
		g, err := s.sso.StartGrant(ctx, source(ctx), r.stored.UserID, r.req.ClientID, r.req.Scopes, r.stored.AuthTime)
		if err != nil {
			return "", time.Time{}, err
		}
		return g.SessionID + "." + randomID(), exp, nil
	case *refreshRequest:
		return r.stored.SessionID + "." + randomID(), exp, nil
	}
	return "", time.Time{}, oidc.ErrUnsupportedGrantType()
}

// CreateAccessAndRefreshTokens opens a grant with its first refresh token
// (code exchange with offline_access) or rotates the presented one.
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	exp := s.sso.Now().Add(s.sso.Config().AccessTTL)
	switch r := req.(type) {
	case *authRequest:
		g, err := s.sso.StartGrant(ctx, source(ctx), r.stored.UserID, r.req.ClientID, r.req.Scopes, r.stored.AuthTime)
		if err != nil {
			return "", "", time.Time{}, err
		}
		rt, err := s.sso.IssueRefreshToken(ctx, g.SessionID, g.ClientID, g.UserID, g.Scopes, g.AuthTime)
		if err != nil {
			return "", "", time.Time{}, err
		}
		return g.SessionID + "." + randomID(), rt, exp, nil
	case *refreshRequest:
		next, t, err := s.sso.RotateRefreshToken(ctx, source(ctx), current, r.scopes)
		if err != nil {
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("%s", message(err, "invalid grant"))
		}
		return t.SessionID + "." + randomID(), next, exp, nil
	}
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
}

func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	t, err := s.sso.RefreshToken(ctx, source(ctx), token)
	if err != nil {
		return nil, err
	}
	return &refreshRequest{token: token, stored: t, scopes: t.Scopes}, nil
}

func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// RevokeToken ends the grant of an access or refresh token of clientID.
// Unknown tokens and other clients' tokens are answered as revoked (RFC
// 7009 §2.2), without touching them.
func (s *storage) RevokeToken(ctx context.Context, tokenOrID, _ string, clientID string) *oidc.Error {
	sid := tokenSession(tokenOrID)
	if strings.HasPrefix(tokenOrID, "nkr_") {
		t, err := s.sso.RefreshTokenGrant(ctx, tokenOrID)
		if err != nil {
			return nil
		}
		sid = t.SessionID
	}
	g, _, err := s.sso.Grant(ctx, sid)
	if err != nil || g.ClientID != clientID {
		return nil
	}
	if err := s.sso.RevokeGrant(ctx, source(ctx), sid); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	t, err := s.sso.RefreshTokenGrant(ctx, token)
	if err != nil || t.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return strconv.FormatInt(t.UserID, 10), "rt:" + t.SessionID, nil
}

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, _, err := s.sso.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	return signingKey{k}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256}, nil
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	_, keys, err := s.sso.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = publicKey{k}
	}
	return out, nil
}

func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.sso.Client(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, errors.New("unknown client")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return &client{c: c, loginURL: s.loginURL, ttl: s.sso.Config().AccessTTL}, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	_, err := s.sso.AuthenticateClient(ctx, id, secret)
	if err != nil && !fault.Is(err, fault.Unauthorized) {
		return oidc.ErrServerError().WithParent(err)
	}
	return err
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest fills
// id_tokens.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	id, err := strconv.ParseInt(req.GetSubject(), 10, 64)
	if err != nil {
		return err
	}
	return s.fillUserinfo(ctx, info, id, scopes)
}

// fillUserinfo sets the claims scopes ask for: sub always, profile
// (preferred_username, name, and netkeep's role and group), email.
func (s *storage) fillUserinfo(ctx context.Context, info *oidc.UserInfo, userID int64, scopes []string) error {
	info.Subject = strconv.FormatInt(userID, 10)
	if !slices.Contains(scopes, oidc.ScopeProfile) && !slices.Contains(scopes, oidc.ScopeEmail) {
		return nil // sub is all: no need to read the user
	}
	u, err := s.users.UserProfile(ctx, userID)
	if err != nil {
		return err
	}
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			info.PreferredUsername, info.Name = u.Username, u.FullName
			info.AppendClaims("role", string(u.Role))
			info.AppendClaims("group", u.GroupName)
		case oidc.ScopeEmail:
			info.Email, info.EmailVerified = u.Email, oidc.Bool(u.EmailVerified)
		}
	}
	return nil
}

// SetUserinfoFromToken answers userinfo for a live grant only.
func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	g, _, err := s.sso.Grant(ctx, tokenSession(tokenID))
	if err != nil || strconv.FormatInt(g.UserID, 10) != subject {
		return oidc.ErrAccessDenied().WithDescription("token is not active")
	}
	return s.fillUserinfo(ctx, info, g.UserID, g.Scopes)
}

// SetIntrospectionFromToken: active only while the grant lives (the
// revoked, expired, disabled-user cases answer {"active": false}).
func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, _ string) error {
	g, p, err := s.sso.Grant(ctx, tokenSession(tokenID))
	if err != nil || strconv.FormatInt(g.UserID, 10) != subject {
		return oidc.ErrAccessDenied().WithDescription("token is not active")
	}
	resp.Active, resp.Scope, resp.ClientID, resp.Subject = true, g.Scopes, g.ClientID, subject
	resp.Username, resp.TokenType, resp.JWTID = p.Username, oidc.BearerToken, tokenID
	resp.AuthTime = oidc.FromTime(g.AuthTime)
	return nil
}

// GetPrivateClaimsFromRequest puts the granted scopes into access tokens
// ("scope"), which is what they may do on the API.
func (s *storage) GetPrivateClaimsFromRequest(_ context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	return map[string]any{"scope": strings.Join(req.GetScopes(), " ")}, nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

var errUnsupported = errors.New("JWT profile grants are not supported")

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errUnsupported
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errUnsupported
}

func (s *storage) Health(context.Context) error { return nil }
