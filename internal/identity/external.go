package identity

import (
	"context"
	"strconv"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// Sessions authenticated elsewhere: single sign-on through a company
// identity provider (the user proved who they are to the provider, not to
// netkeep), and grants to OAuth2 clients (the user consented in a browser
// session of their own). Both are ordinary sessions: revoking one, logging
// out, or disabling or deleting the user ends them, whatever the identity
// provider or the client says.

// StartExternalSession opens a session for an active user who signed in
// through an identity provider (method names it in the audit log, e.g.
// "oidc:corp"). Its tokens are those of a password login. Errors:
// unauthorized (account disabled or gone).
func (s *Service) StartExternalSession(ctx context.Context, src audit.Source, userID int64, method string) (*LoginResult, error) {
	u, err := s.store.Read().UserByID(ctx, userID)
	if fault.Is(err, fault.NotFound) {
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if !u.IsActive {
		return nil, fault.New(fault.Unauthorized, "account disabled").WithReason(ReasonInvalidCredentials)
	}
	toks, err := s.openSession(ctx, src, u, false, s.now())
	if err != nil {
		return nil, err
	}
	s.log.Debug("external sign-in", "user", u.ID, "method", method)
	return &LoginResult{User: u, Tokens: toks}, nil
}

// StartGrant opens the session behind an OAuth2 client's tokens for an
// active user; it lasts ttl at most and has no refresh token of its own
// (the client's refresh tokens are kept by the OAuth2 provider). It returns
// the session id.
func (s *Service) StartGrant(ctx context.Context, src audit.Source, userID int64, clientID string, ttl time.Duration) (string, time.Time, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	sess := &Session{ID: randomID(16), UserID: userID, IP: src.IP, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	err := s.store.InTx(ctx, func(tx Tx) error {
		u, err := tx.UserByID(ctx, userID)
		if err != nil || !u.IsActive {
			return errSessionEnded
		}
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		src.Actor = userTarget(userID)
		return audit.Record(ctx, tx, src, u.GroupID, "oauth2.grant", userTarget(userID), map[string]any{"session": sess.ID, "client_id": clientID})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	s.dir.addLive(sess.ID, liveSession{userID: userID, expires: sess.ExpiresAt})
	return sess.ID, sess.ExpiresAt, nil
}

// EndSession revokes a session (an OAuth2 grant revoked by its client or
// found stolen) with reason, auditing it; ending an ended session is no
// error.
func (s *Service) EndSession(ctx context.Context, src audit.Source, sessionID, reason string) error {
	var gid int64
	var live bool
	err := s.store.InTx(ctx, func(tx Tx) error {
		sess, err := tx.SessionByID(ctx, sessionID)
		if fault.Is(err, fault.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if live, err = tx.RevokeSession(ctx, sessionID, reason, s.now()); err != nil || !live {
			return err
		}
		u, err := tx.UserByID(ctx, sess.UserID)
		if err != nil {
			return err
		}
		gid = u.GroupID
		return audit.Record(ctx, tx, src, gid, "auth.session_revoke", userTarget(u.ID), map[string]any{"session": sessionID, "reason": reason})
	})
	if err != nil || !live {
		return err
	}
	s.dir.markRevoked(sessionID)
	s.publish(ctx, "session", "revoked", gid, sessionID)
	return nil
}

// SessionPrincipal returns the principal of user userID acting in session
// sessionID, as AuthenticateAccess would for an access token naming them:
// unauthorized when the session has ended or was revoked or the user is
// inactive. Tokens signed elsewhere (OAuth2 access tokens) use it.
func (s *Service) SessionPrincipal(ctx context.Context, userID int64, sessionID string) (*authz.Principal, error) {
	c := &AccessClaims{SessionID: sessionID}
	c.Subject = strconv.FormatInt(userID, 10)
	return s.principalFor(ctx, c)
}

// UserProfile returns a user's account for claims about them (an OpenID
// provider's id_token and userinfo), without an authorization check: the
// caller answers for a user who signed in or consented. Errors: not_found.
func (s *Service) UserProfile(ctx context.Context, id int64) (*User, error) {
	return s.store.Read().UserByID(ctx, id)
}
