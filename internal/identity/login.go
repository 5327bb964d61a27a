package identity

import (
	"context"
	"fmt"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// LoginRequest is a password (and TOTP) login.
type LoginRequest struct {
	Login    string // username or email
	Password string
	TOTPCode string
	Remember bool
	// MFAPrompt: the client shows an MFA prompt when told (NetKey's 200
	// requires_mfa), so a missing code is a LoginResult with MFARequired
	// rather than the error ErrMFARequired.
	MFAPrompt bool
}

// Tokens are what a successful login or refresh hands out. RefreshToken is
// shown to the client once and stored only as its SHA-256.
type Tokens struct {
	AccessToken    string
	AccessExpires  time.Time
	AccessTTL      time.Duration // the lifetime it was issued with (expires_in)
	RefreshToken   string
	RefreshExpires time.Time
	SessionID      string
}

// LoginResult is a login outcome: either MFARequired (no tokens, only with
// LoginRequest.MFAPrompt), or tokens.
type LoginResult struct {
	MFARequired bool
	User        *User
	Tokens      *Tokens
}

var errBadCredentials = fault.New(fault.Unauthorized, "invalid username or password").WithReason(ReasonInvalidCredentials)

// ErrMFARequired is Login's answer to a user with MFA on who sent no code.
var ErrMFARequired = fault.New(fault.Unauthorized, "a TOTP code is required (totp_code)").WithReason(ReasonMFARequired).
	WithDetails(map[string]any{"requires_mfa": true, "mfa_type": "totp"})

// errLocked is the lockout's answer: rate_limited with retry_after (whole
// seconds, at least 1) in its details, which transports also send as
// Retry-After.
func errLocked(d time.Duration) error {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return fault.Errorf(fault.RateLimited, "too many failed attempts; retry in %d seconds", secs).
		WithReason(ReasonTooManyAttempts).WithDetails(map[string]any{"retry_after": secs})
}

func required(name string) error {
	return fault.New(fault.Invalid, name+" is required").WithDetails(field(name))
}

// Login checks credentials and opens a session; it is the one login of
// every dialect. Failures are audited and counted both per login name and
// per account, so an account locked under its username is locked under its
// email too; the answer never says whether the user exists. Errors: invalid
// (a required field, named in details), unauthorized (credentials, TOTP,
// ErrMFARequired), rate_limited (locked; retry_after in details).
func (s *Service) Login(ctx context.Context, src audit.Source, req LoginRequest) (*LoginResult, error) {
	login := strings.TrimSpace(req.Login)
	switch {
	case login == "":
		return nil, required("username")
	case req.Password == "":
		return nil, required("password")
	}
	now := s.now()
	if d := s.lock.Wait(nameKey(login), now); d > 0 {
		return nil, errLocked(d)
	}
	if len(req.Password) > MaxPasswordLen {
		return nil, s.loginFailed(ctx, src, login, nil, "password too long")
	}
	u, err := s.store.Read().UserByLogin(ctx, login)
	if fault.Is(err, fault.NotFound) {
		_, _ = CheckPassword(s.dummyPw, req.Password)
		return nil, s.loginFailed(ctx, src, login, nil, "unknown user")
	}
	if err != nil {
		return nil, err
	}
	// Checked before the password: a locked account takes no guesses,
	// whatever name it is reached by.
	if d := s.lock.Wait(accountKey(u.ID), now); d > 0 {
		return nil, errLocked(d)
	}
	if u.PasswordHash == "" {
		// Users from an identity provider have no local password until an
		// administrator sets one.
		_, _ = CheckPassword(s.dummyPw, req.Password)
		return nil, s.loginFailed(ctx, src, login, u, "no local password")
	}
	ok, err := CheckPassword(u.PasswordHash, req.Password)
	if err != nil {
		return nil, fmt.Errorf("checking password of user %d: %w", u.ID, err)
	}
	if !ok {
		return nil, s.loginFailed(ctx, src, login, u, "wrong password")
	}
	if !u.IsActive {
		return nil, s.loginFailed(ctx, src, login, u, "account disabled")
	}
	if u.MFAEnabled {
		if req.TOTPCode == "" {
			if req.MFAPrompt {
				return &LoginResult{MFARequired: true, User: u}, nil
			}
			return nil, ErrMFARequired
		}
		step, err := s.verifyTOTP(u, req.TOTPCode, now)
		if err != nil {
			return nil, err
		}
		if step == 0 {
			if lerr := s.loginFailed(ctx, src, login, u, "wrong totp code"); fault.Is(lerr, fault.RateLimited) {
				return nil, lerr
			}
			return nil, fault.New(fault.Unauthorized, "invalid or already used TOTP code").WithReason(ReasonInvalidTOTP)
		}
		u.TOTPLastStep = step
	}
	s.lock.Succeed(nameKey(login))
	s.lock.Succeed(accountKey(u.ID))
	toks, err := s.openSession(ctx, src, u, req.Remember, now)
	if err != nil {
		return nil, err
	}
	return &LoginResult{User: u, Tokens: toks}, nil
}

// loginFailed counts a failed attempt against the login name and, when it
// named a user, the account; audits it; and returns the error to show.
func (s *Service) loginFailed(ctx context.Context, src audit.Source, login string, u *User, why string) error {
	now := s.now()
	locked := s.lock.Fail(nameKey(login), now)
	var gid int64
	target := "login:" + login
	if u != nil {
		gid, target = u.GroupID, userTarget(u.ID)
		locked = max(locked, s.lock.Fail(accountKey(u.ID), now))
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		return audit.Record(ctx, tx, src, gid, "auth.login_failed", target, map[string]any{"reason": why, "locked": locked > 0})
	})
	if err != nil {
		s.log.Error("auditing failed login", "err", err)
	}
	if locked > 0 {
		return errLocked(locked)
	}
	return errBadCredentials
}

// openSession creates a session with its first refresh token, records the
// login and returns the tokens.
func (s *Service) openSession(ctx context.Context, src audit.Source, u *User, remember bool, now time.Time) (*Tokens, error) {
	ttl := s.cfg.SessionTTL
	if remember {
		ttl = s.cfg.RememberTTL
	}
	// Microseconds: what both databases keep, so the expiry read back equals.
	now = now.UTC().Truncate(time.Microsecond)
	sess := &Session{ID: randomID(16), UserID: u.ID, Remember: remember, IP: src.IP, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	rt, rh := newRefreshToken()
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		if err := tx.CreateRefreshToken(ctx, &RefreshToken{Hash: rh, SessionID: sess.ID, CreatedAt: now}); err != nil {
			return err
		}
		cur, err := tx.UserByID(ctx, u.ID)
		if err != nil {
			return err
		}
		cur.LastLogin = &now
		if u.TOTPLastStep > cur.TOTPLastStep {
			cur.TOTPLastStep = u.TOTPLastStep
		}
		if err := tx.UpdateUser(ctx, cur); err != nil {
			return err
		}
		*u = *cur
		src.Actor = userTarget(u.ID)
		return audit.Record(ctx, tx, src, u.GroupID, "auth.login", userTarget(u.ID), map[string]any{"session": sess.ID, "remember": remember})
	})
	if err != nil {
		return nil, err
	}
	s.dir.addLive(sess.ID, liveSession{userID: u.ID, expires: sess.ExpiresAt})
	access, exp, err := s.issueAccess(u, sess.ID, now)
	if err != nil {
		return nil, err
	}
	return &Tokens{AccessToken: access, AccessExpires: exp, AccessTTL: s.cfg.AccessTTL, RefreshToken: rt, RefreshExpires: sess.ExpiresAt, SessionID: sess.ID}, nil
}

func (s *Service) issueAccess(u *User, sessionID string, now time.Time) (string, time.Time, error) {
	c := newAccessClaims(u, sessionID, now, s.cfg.AccessTTL)
	tok, err := s.signer.Sign(c)
	return tok, c.ExpiresAt.Time, err
}

var errBadRefresh = fault.New(fault.Unauthorized, "invalid or expired refresh token").WithReason(ReasonInvalidRefreshToken)

// Refresh rotates a refresh token: the presented one stops working and a new
// pair is returned. Presenting an already-rotated token is treated as theft:
// the whole session (token family) is revoked and the call fails.
func (s *Service) Refresh(ctx context.Context, src audit.Source, refreshToken string) (*User, *Tokens, error) {
	if !strings.HasPrefix(refreshToken, refreshPrefix) {
		return nil, nil, errBadRefresh
	}
	now := s.now()
	hash := HashToken(refreshToken)
	var (
		u       *User
		sess    *Session
		theft   bool
		newTok  string
		revoked []string
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		t, err := tx.RefreshTokenByHash(ctx, hash)
		if err != nil {
			return errBadRefresh
		}
		if sess, err = tx.SessionByID(ctx, t.SessionID); err != nil {
			return err
		}
		if u, err = tx.UserByID(ctx, sess.UserID); err != nil {
			return errBadRefresh
		}
		if sess.RevokedAt != nil || !now.Before(sess.ExpiresAt) || !u.IsActive {
			return errBadRefresh
		}
		fresh, err := tx.UseRefreshToken(ctx, hash, now)
		if err != nil {
			return err
		}
		if !fresh {
			theft = true
			if _, err := tx.RevokeSession(ctx, sess.ID, "refresh token reuse", now); err != nil {
				return err
			}
			revoked = []string{sess.ID}
			return audit.Record(ctx, tx, src, u.GroupID, "auth.token_theft", userTarget(u.ID), map[string]any{"session": sess.ID})
		}
		var rh string
		newTok, rh = newRefreshToken()
		if err := tx.CreateRefreshToken(ctx, &RefreshToken{Hash: rh, SessionID: sess.ID, CreatedAt: now}); err != nil {
			return err
		}
		src.Actor = userTarget(u.ID)
		return audit.Record(ctx, tx, src, u.GroupID, "auth.refresh", userTarget(u.ID), map[string]any{"session": sess.ID})
	})
	if err != nil {
		return nil, nil, err
	}
	for _, id := range revoked {
		s.dir.markRevoked(id)
		s.publish(ctx, "session", "revoked", u.GroupID, id)
	}
	if theft {
		return nil, nil, fault.New(fault.Unauthorized, "refresh token was already used; the session has been revoked").WithReason(ReasonTokenReused)
	}
	access, exp, err := s.issueAccess(u, sess.ID, now)
	if err != nil {
		return nil, nil, err
	}
	return u, &Tokens{AccessToken: access, AccessExpires: exp, AccessTTL: s.cfg.AccessTTL, RefreshToken: newTok, RefreshExpires: sess.ExpiresAt, SessionID: sess.ID}, nil
}

// Renewal is a renewed access token (Nekzus's refresh).
type Renewal struct {
	AccessToken string
	Expires     time.Time
	Role        Role
	SessionID   string // the session (the client login) the token belongs to
}

// RefreshAccess issues a new access token for a valid, or recently expired
// (within the refresh grace), access token of a live session (Nekzus).
func (s *Service) RefreshAccess(ctx context.Context, token string) (*Renewal, error) {
	var c AccessClaims
	if err := s.signer.Verify(token, AudienceAPI, &c, true); err != nil {
		return nil, err
	}
	if _, err := s.principalFor(ctx, &c); err != nil {
		return nil, err
	}
	sess, err := s.store.Read().SessionByID(ctx, c.SessionID)
	if err != nil || sess.RevokedAt != nil || !s.now().Before(sess.ExpiresAt) {
		return nil, errSessionEnded
	}
	u, err := s.store.Read().UserByID(ctx, c.UserID())
	if err != nil {
		return nil, errSessionEnded
	}
	tok, exp, err := s.issueAccess(u, c.SessionID, s.now())
	if err != nil {
		return nil, err
	}
	return &Renewal{AccessToken: tok, Expires: exp, Role: u.Role, SessionID: c.SessionID}, nil
}

// Logout revokes p's session: its refresh tokens and access tokens stop
// working. Only a user session can log out (forbidden otherwise).
func (s *Service) Logout(ctx context.Context, p *authz.Principal, src audit.Source) error {
	userID, err := sessionUser(p, "logout")
	if err != nil {
		return err
	}
	sessionID := p.SessionID
	var gid int64
	err = s.store.InTx(ctx, func(tx Tx) error {
		sess, err := tx.SessionByID(ctx, sessionID)
		if err != nil || sess.UserID != userID {
			return errSessionEnded
		}
		u, err := tx.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		gid = u.GroupID
		if _, err := tx.RevokeSession(ctx, sessionID, "logout", s.now()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, gid, "auth.logout", userTarget(userID), map[string]any{"session": sessionID})
	})
	if err != nil {
		return err
	}
	s.dir.markRevoked(sessionID)
	s.publish(ctx, "session", "revoked", gid, sessionID)
	return nil
}

// Me returns the account behind p, or not_found (user_not_found) for a
// credential without one (the master key).
func (s *Service) Me(ctx context.Context, p *authz.Principal) (*User, error) {
	if p == nil || p.UserID == 0 {
		return nil, fault.New(fault.NotFound, "this credential has no user").WithReason(ReasonUserNotFound)
	}
	return s.GetUser(ctx, p, p.UserID)
}

// SessionOfRefresh returns the session a refresh token belongs to (logout by
// cookie), or not_found.
func (s *Service) SessionOfRefresh(ctx context.Context, refreshToken string) (*Session, error) {
	t, err := s.store.Read().RefreshTokenByHash(ctx, HashToken(refreshToken))
	if err != nil {
		return nil, err
	}
	return s.store.Read().SessionByID(ctx, t.SessionID)
}
