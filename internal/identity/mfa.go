package identity

import (
	"context"
	"fmt"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

func totpContext(userID int64) string { return fmt.Sprintf("totp:%d", userID) }

// sessionUser returns p's user when p is a user session: MFA and logout
// belong to a person's login, so API keys and the master key are refused.
func sessionUser(p *authz.Principal, what string) (int64, error) {
	if p == nil || p.Kind != authz.KindUser {
		return 0, fault.New(fault.Forbidden, what+" needs a user session")
	}
	return p.UserID, nil
}

// verifyTOTP returns the step code matches for u at now (0: no match or
// replayed). The secret is kept sealed; it is opened only here.
func (s *Service) verifyTOTP(u *User, code string, now time.Time) (int64, error) {
	if len(u.MFASecret) == 0 {
		return 0, nil
	}
	secret, err := s.keys.Open(u.MFASecret, totpContext(u.ID))
	if err != nil {
		return 0, fmt.Errorf("opening TOTP secret of user %d: %w", u.ID, err)
	}
	return checkTOTP(string(secret), code, now, u.TOTPLastStep), nil
}

// SetupMFA starts TOTP enrolment: a new secret is stored (sealed) but MFA is
// not on until EnableMFA confirms a code. Calling it again replaces a
// pending secret; with MFA already on it is a conflict.
func (s *Service) SetupMFA(ctx context.Context, p *authz.Principal, src audit.Source) (*Enrolment, error) {
	userID, err := sessionUser(p, "MFA setup")
	if err != nil {
		return nil, err
	}
	var enr *Enrolment
	err = s.store.InTx(ctx, func(tx Tx) error {
		u, err := tx.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		if u.MFAEnabled {
			return fault.New(fault.Conflict, "MFA is already enabled; disable it first").WithReason(ReasonMFAAlreadyEnabled)
		}
		if enr, err = newEnrolment("netkeep", u.Username); err != nil {
			return err
		}
		if u.MFASecret, err = s.keys.Seal([]byte(enr.Secret), totpContext(u.ID)); err != nil {
			return err
		}
		u.TOTPLastStep = 0
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, u.GroupID, "user.mfa_setup", userTarget(u.ID), nil)
	})
	return enr, err
}

// EnableMFA turns MFA on after the user proves a code of the pending secret.
func (s *Service) EnableMFA(ctx context.Context, p *authz.Principal, src audit.Source, code string) error {
	userID, err := sessionUser(p, "MFA setup")
	if err != nil {
		return err
	}
	if code == "" {
		return required("totp_code")
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		u, err := tx.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		if u.MFAEnabled {
			return fault.New(fault.Conflict, "MFA is already enabled").WithReason(ReasonMFAAlreadyEnabled)
		}
		if len(u.MFASecret) == 0 {
			return fault.New(fault.Invalid, "start with MFA setup first").WithReason(ReasonMFANotSetUp)
		}
		step, err := s.verifyTOTP(u, code, s.now())
		if err != nil {
			return err
		}
		if step == 0 {
			return fault.New(fault.Invalid, "invalid TOTP code").WithReason(ReasonInvalidTOTP)
		}
		u.MFAEnabled, u.TOTPLastStep = true, step
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, u.GroupID, "user.mfa_enable", userTarget(u.ID), nil)
	})
}

// DisableMFA turns MFA off; it needs the password and a current code.
// Like SetupMFA and EnableMFA it acts on p's own account: p must be a user
// session (forbidden otherwise).
func (s *Service) DisableMFA(ctx context.Context, p *authz.Principal, src audit.Source, password, code string) error {
	userID, err := sessionUser(p, "MFA setup")
	if err != nil {
		return err
	}
	switch {
	case password == "":
		return required("password")
	case code == "":
		return required("totp_code")
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		u, err := tx.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		if !u.MFAEnabled {
			return fault.New(fault.Conflict, "MFA is not enabled").WithReason(ReasonMFANotEnabled)
		}
		ok, err := CheckPassword(u.PasswordHash, password)
		if err != nil {
			return err
		}
		if !ok {
			return fault.New(fault.Unauthorized, "wrong password").WithReason(ReasonInvalidCredentials)
		}
		step, err := s.verifyTOTP(u, code, s.now())
		if err != nil {
			return err
		}
		if step == 0 {
			return fault.New(fault.Unauthorized, "invalid or already used TOTP code").WithReason(ReasonInvalidTOTP)
		}
		u.MFAEnabled, u.MFASecret, u.TOTPLastStep = false, nil, step
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, u.GroupID, "user.mfa_disable", userTarget(u.ID), nil)
	})
}
