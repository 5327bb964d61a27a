package identity

import (
	"context"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"netkeep/internal/authz"
)

// AudienceWeb is the audience of browser session tokens: the value of the
// session cookie. They are never accepted as Bearer tokens, and access
// tokens are never accepted as cookies.
const AudienceWeb = "netkeep-web"

// WebToken issues a browser session token for an existing, live session of
// userID (a login's Tokens.SessionID, or a session opened by single sign-on).
// It lasts Config.WebIdle and never past the session's end; revoking the
// session (logout, the user disabled or deleted) ends it at once, because
// every use checks the session as access tokens do.
func (s *Service) WebToken(ctx context.Context, userID int64, sessionID string) (string, time.Time, error) {
	ls, err := s.session(ctx, sessionID)
	if err != nil {
		return "", time.Time{}, err
	}
	if ls.userID != userID {
		return "", time.Time{}, errSessionEnded
	}
	return s.signWeb(userID, sessionID, ls.expires, s.now())
}

// signWeb signs a web token for the session, expiring after WebIdle or at
// the session's end, whichever is first.
func (s *Service) signWeb(userID int64, sessionID string, sessionEnd, now time.Time) (string, time.Time, error) {
	if !now.Before(sessionEnd) {
		return "", time.Time{}, errSessionEnded
	}
	exp := now.Add(s.cfg.WebIdle)
	if exp.After(sessionEnd) {
		exp = sessionEnd
	}
	c := &AccessClaims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    Issuer,
		Subject:   strconv.FormatInt(userID, 10),
		Audience:  jwt.ClaimStrings{AudienceWeb},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Second)),
		ExpiresAt: jwt.NewNumericDate(exp),
		ID:        randomID(8),
	}, SessionID: sessionID}
	tok, err := s.signer.Sign(c)
	return tok, exp, err
}

// AuthenticateWeb verifies a browser session token and returns its
// principal (a user session, exactly as an access token of the same session
// would give). When less than half of WebIdle remains, it also returns a
// renewed token to set on the response (sliding expiry; the old one stays
// valid until it expires, so concurrent requests never race).
func (s *Service) AuthenticateWeb(ctx context.Context, token string) (p *authz.Principal, renewed string, renewedExpires time.Time, err error) {
	var c AccessClaims
	if err := s.signer.Verify(token, AudienceWeb, &c, false); err != nil {
		return nil, "", time.Time{}, err
	}
	if p, err = s.principalFor(ctx, &c); err != nil {
		return nil, "", time.Time{}, err
	}
	now := s.now()
	if c.ExpiresAt != nil && c.ExpiresAt.Sub(now) < s.cfg.WebIdle/2 {
		ls, err := s.session(ctx, c.SessionID)
		if err == nil && c.ExpiresAt.Time.Before(ls.expires) {
			renewed, renewedExpires, _ = s.signWeb(p.UserID, c.SessionID, ls.expires, now)
		}
	}
	return p, renewed, renewedExpires, nil
}
