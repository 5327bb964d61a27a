package sso

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// Authorization requests, codes and grants. A grant is an identity session
// opened when a client first exchanges a code: its access tokens name the
// session, its refresh tokens rotate within it, and revoking it (the client
// revokes a token, a rotated refresh token is replayed, the user logs out
// everywhere or is disabled) ends every token of the grant.

// Grant errors; the protocol layer turns them into RFC 6749 answers.
var (
	ErrRequestNotFound = fault.New(fault.NotFound, "authorization request not found or expired")
	ErrInvalidGrant    = fault.New(fault.Unauthorized, "invalid, expired or already used grant")
	ErrGrantReused     = fault.New(fault.Unauthorized, "refresh token was already used; the grant has been revoked")
)

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// CreateAuthRequest stores a validated authorization request of client.
func (s *Service) CreateAuthRequest(ctx context.Context, clientID string, request []byte) (*AuthRequest, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	r := &AuthRequest{ID: randomToken(18), ClientID: clientID, Request: request, CreatedAt: now, ExpiresAt: now.Add(s.cfg.AuthRequestTTL)}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.DeleteExpiredAuthRequests(ctx, now); err != nil {
			return err
		}
		return tx.CreateAuthRequest(ctx, r)
	})
	return r, err
}

// AuthRequest returns a live authorization request.
func (s *Service) AuthRequest(ctx context.Context, id string) (*AuthRequest, error) {
	r, err := s.store.Read().AuthRequestByID(ctx, id)
	if fault.Is(err, fault.NotFound) || (err == nil && !s.now().Before(r.ExpiresAt)) {
		return nil, ErrRequestNotFound
	}
	return r, err
}

// ConsentScreen is what the consent page shows.
type ConsentScreen struct {
	Request *AuthRequest
	Client  *Client
}

// Consent records that the user of session p approved request id. Only a
// user of the client's group may authorize it (another group's client is
// not_found). Errors: not_found, unauthorized (no user session).
func (s *Service) Consent(ctx context.Context, p *authz.Principal, src audit.Source, id string) error {
	if p == nil || p.Kind != authz.KindUser {
		return fault.New(fault.Unauthorized, "sign in to authorize an application")
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		r, err := tx.AuthRequestByID(ctx, id)
		if err != nil || !s.now().Before(r.ExpiresAt) {
			return ErrRequestNotFound
		}
		c, err := tx.OAuthClientByID(ctx, r.ClientID)
		if err != nil {
			return ErrRequestNotFound
		}
		if c.GroupID != p.GroupID {
			return fault.New(fault.NotFound, "application not found")
		}
		r.UserID, r.AuthTime = p.UserID, s.now().UTC().Truncate(time.Second)
		if err := tx.UpdateAuthRequest(ctx, r); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, c.GroupID, "oauth2.consent", "oauth_client:"+c.ID, map[string]any{"request": r.ID})
	})
}

// SaveCode attaches a single-use code to a consented request; it is valid
// for CodeTTL.
func (s *Service) SaveCode(ctx context.Context, id, code string) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		r, err := tx.AuthRequestByID(ctx, id)
		if err != nil || !r.Done() {
			return ErrRequestNotFound
		}
		r.CodeHash, r.CodeExpiresAt = hashToken(code), s.now().UTC().Add(s.cfg.CodeTTL)
		return tx.UpdateAuthRequest(ctx, r)
	})
}

// AuthRequestByCode returns the request of a live code. A code is deleted
// with its request once exchanged, so a replayed code is not found.
func (s *Service) AuthRequestByCode(ctx context.Context, code string) (*AuthRequest, error) {
	r, err := s.store.Read().AuthRequestByCode(ctx, hashToken(code))
	if err != nil || !s.now().Before(r.CodeExpiresAt) {
		return nil, ErrInvalidGrant
	}
	return r, nil
}

// DeleteAuthRequest forgets a request (its code is used up).
func (s *Service) DeleteAuthRequest(ctx context.Context, id string) error {
	return s.store.InTx(ctx, func(tx Tx) error { return tx.DeleteAuthRequest(ctx, id) })
}

// StartGrant opens the grant behind a code exchange: an identity session
// for userID and the scopes client may use in it.
func (s *Service) StartGrant(ctx context.Context, src audit.Source, userID int64, clientID string, scopes []string, authTime time.Time) (*Grant, error) {
	sid, _, err := s.sessions.StartGrant(ctx, src, userID, clientID, s.cfg.GrantTTL)
	if err != nil {
		return nil, err
	}
	g := &Grant{SessionID: sid, ClientID: clientID, UserID: userID, Scopes: scopes, AuthTime: authTime.UTC(), CreatedAt: s.now().UTC()}
	if err := s.store.InTx(ctx, func(tx Tx) error { return tx.CreateOAuthGrant(ctx, g) }); err != nil {
		return nil, err
	}
	return g, nil
}

// Grant returns the live grant of session sessionID: unauthorized when it
// ended (revoked, expired, its user disabled) or is no grant.
func (s *Service) Grant(ctx context.Context, sessionID string) (*Grant, *authz.Principal, error) {
	g, err := s.store.Read().OAuthGrant(ctx, sessionID)
	if err != nil {
		return nil, nil, ErrInvalidGrant
	}
	p, err := s.TokenPrincipal(ctx, g.UserID, g.SessionID, g.ClientID, g.Scopes)
	if err != nil {
		return nil, nil, err
	}
	return g, p, nil
}

// IssueRefreshToken creates the first refresh token of a grant and returns
// it (stored as its SHA-256 only).
func (s *Service) IssueRefreshToken(ctx context.Context, sessionID, clientID string, userID int64, scopes []string, authTime time.Time) (string, error) {
	tok := "nkr_" + randomToken(32)
	t := &RefreshToken{Hash: hashToken(tok), SessionID: sessionID, ClientID: clientID, UserID: userID, Scopes: scopes,
		AuthTime: authTime.UTC(), CreatedAt: s.now().UTC()}
	err := s.store.InTx(ctx, func(tx Tx) error { return tx.CreateOAuthRefreshToken(ctx, t) })
	if err != nil {
		return "", err
	}
	return tok, nil
}

// RefreshToken returns the live refresh token tok. Presenting a rotated
// token is theft: its grant is revoked and ErrGrantReused returned.
func (s *Service) RefreshToken(ctx context.Context, src audit.Source, tok string) (*RefreshToken, error) {
	if !strings.HasPrefix(tok, "nkr_") {
		return nil, ErrInvalidGrant
	}
	t, err := s.store.Read().OAuthRefreshTokenByHash(ctx, hashToken(tok))
	if fault.Is(err, fault.NotFound) {
		return nil, ErrInvalidGrant
	}
	if err != nil {
		return nil, err
	}
	if t.UsedAt != nil {
		if err := s.sessions.EndSession(ctx, src, t.SessionID, "oauth2 refresh token reuse"); err != nil {
			return nil, err
		}
		return nil, ErrGrantReused
	}
	if _, err := s.sessions.SessionPrincipal(ctx, t.UserID, t.SessionID); err != nil {
		return nil, ErrInvalidGrant
	}
	return t, nil
}

// RotateRefreshToken uses up tok and returns its successor in the same
// grant, with scopes (a subset of the grant's, checked by the protocol;
// none: the same). A token already used, also by a concurrent rotation,
// is theft: the grant is revoked and ErrGrantReused returned.
func (s *Service) RotateRefreshToken(ctx context.Context, src audit.Source, tok string, scopes []string) (string, *RefreshToken, error) {
	now := s.now().UTC()
	next := "nkr_" + randomToken(32)
	hash := hashToken(tok)
	var n *RefreshToken
	err := s.store.InTx(ctx, func(tx Tx) error {
		t, err := tx.UseOAuthRefreshToken(ctx, hash, now)
		if err != nil {
			return err
		}
		// The user's group for the audit entry, from identity's cache.
		p, err := s.sessions.SessionPrincipal(ctx, t.UserID, t.SessionID)
		if err != nil {
			return ErrInvalidGrant
		}
		if len(scopes) == 0 {
			scopes = t.Scopes
		}
		n = &RefreshToken{Hash: hashToken(next), SessionID: t.SessionID, ClientID: t.ClientID, UserID: t.UserID,
			Scopes: scopes, AuthTime: t.AuthTime, CreatedAt: now}
		if err := tx.CreateOAuthRefreshToken(ctx, n); err != nil {
			return err
		}
		src.Actor = "oauth:" + t.ClientID + ":" + userTarget(t.UserID)
		return audit.Record(ctx, tx, src, p.GroupID, "oauth2.refresh", userTarget(t.UserID), map[string]any{"session": n.SessionID, "client_id": n.ClientID})
	})
	if fault.Is(err, fault.NotFound) {
		t, rerr := s.store.Read().OAuthRefreshTokenByHash(ctx, hash)
		if rerr != nil {
			return "", nil, ErrInvalidGrant
		}
		if err := s.sessions.EndSession(ctx, src, t.SessionID, "oauth2 refresh token reuse"); err != nil {
			return "", nil, err
		}
		return "", nil, ErrGrantReused
	}
	if err != nil {
		return "", nil, err
	}
	return next, n, nil
}

// RevokeGrant ends the grant (session) behind a token of client clientID
// (RFC 7009): every access and refresh token of it stops working.
func (s *Service) RevokeGrant(ctx context.Context, src audit.Source, sessionID string) error {
	return s.sessions.EndSession(ctx, src, sessionID, "oauth2 token revoked")
}

// RefreshTokenGrant returns the grant of refresh token tok, used or not
// (revocation of an already rotated token still ends its grant).
func (s *Service) RefreshTokenGrant(ctx context.Context, tok string) (*RefreshToken, error) {
	t, err := s.store.Read().OAuthRefreshTokenByHash(ctx, hashToken(tok))
	if err != nil {
		return nil, ErrInvalidGrant
	}
	return t, nil
}

// TokenPrincipal is the principal of an access token of client clientID
// acting for userID in grant sessionID with the scope names granted: the
// user's current role and group, confined to the netkeep actions the names
// grant, never more than the role allows. Errors: unauthorized (grant
// ended, user disabled, client deleted).
func (s *Service) TokenPrincipal(ctx context.Context, userID int64, sessionID, clientID string, scopes []string) (*authz.Principal, error) {
	up, err := s.sessions.SessionPrincipal(ctx, userID, sessionID)
	if err != nil {
		return nil, err
	}
	if _, err := s.Client(ctx, clientID); err != nil {
		return nil, fault.New(fault.Unauthorized, "the application's access was withdrawn")
	}
	p := *up
	p.Kind, p.Subject, p.Scopes = authz.KindOAuth, clientID, GrantedActions(up.Role, scopes)
	return &p, nil
}

// GrantedActions returns the netkeep actions scope names grant to a user of
// role r: unknown and OpenID names grant nothing, and nothing exceeds r.
func GrantedActions(r authz.Role, names []string) authz.Scopes {
	role := authz.RoleGrants(r)
	out := authz.Scopes{}
	for _, n := range names {
		if IsOpenIDScope(n) {
			continue
		}
		acts, err := authz.ParseScopes([]string{n})
		if err != nil {
			continue
		}
		for a := range acts {
			if role.Has(a) {
				out[a] = true
			}
		}
	}
	return out
}
