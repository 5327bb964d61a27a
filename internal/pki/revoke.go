package pki

import (
	"context"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// actionWrite is the authz action that guards revocation through the API.
const actionWrite authz.Action = "pki:write"

var errCertNotFound = fault.New(fault.NotFound, "certificate not found")

// Revoke revokes the certificate with the given serial (hex, case and colons
// ignored) for reason (an RFC 5280 name; empty is unspecified) on behalf of
// p, who needs pki:write on the certificate's group, and returns its record.
//
// Revoking a revoked certificate changes nothing and succeeds, returning the
// first revocation's time and reason: retries are safe.
//
// When Revoke returns, this replica's CRL lists the certificate; other
// replicas load the new CRL on the "pki"/"crl" event.
//
// Errors: unauthorized, forbidden (p may not revoke), invalid (serial,
// reason), not_found (no such certificate, or another group's).
func (s *Service) Revoke(ctx context.Context, p *authz.Principal, src audit.Source, serial, reason string) (*Certificate, error) {
	if err := authz.Allow(p, actionWrite, authz.Any); err != nil {
		return nil, err
	}
	sn, err := ParseSerial(serial)
	if err != nil {
		return nil, err
	}
	r, err := ParseReason(reason)
	if err != nil {
		return nil, err
	}
	return s.revokeOne(ctx, src, sn, r, func(c *Certificate) error {
		err := authz.Allow(p, actionWrite, authz.Resource{GroupID: c.GroupID})
		if fault.Is(err, fault.NotFound) {
			return errCertNotFound
		}
		return err
	})
}

// RevokeUnchecked is Revoke for domain callers that have already decided
// the revocation is allowed (a user revoking the certificate of their own
// VPN config, a gateway being deleted). Errors: invalid (reason), not_found.
func (s *Service) RevokeUnchecked(ctx context.Context, src audit.Source, serial Serial, reason Reason) (*Certificate, error) {
	if _, ok := reasonCodes[reason]; !ok {
		return nil, fault.Errorf(fault.Invalid, "unknown revocation reason %q", reason)
	}
	return s.revokeOne(ctx, src, serial, reason, nil)
}

// RevokeOwned revokes every unexpired, unrevoked certificate of o (a user's
// client certificates or a gateway's server certificates) and returns them.
// The caller has authorized it. Errors: invalid (empty Owner or reason).
func (s *Service) RevokeOwned(ctx context.Context, src audit.Source, o Owner, reason Reason) ([]*Certificate, error) {
	if (o.UserID == 0) == (o.GatewayID == "") {
		return nil, fault.New(fault.Invalid, "name exactly one owner: a user or a gateway")
	}
	if _, ok := reasonCodes[reason]; !ok {
		return nil, fault.Errorf(fault.Invalid, "unknown revocation reason %q", reason)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	var certs []*Certificate
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if certs, err = tx.UnrevokedCertificates(ctx, o, 0, now); err != nil {
			return err
		}
		for _, c := range certs {
			if err := revokeInTx(ctx, tx, src, c, now, reason); err != nil {
				return err
			}
		}
		if len(certs) == 0 {
			return nil
		}
		return tx.BumpRevision(ctx)
	})
	if err != nil {
		return nil, err
	}
	if len(certs) > 0 {
		s.afterRevoke(ctx, certs...)
	}
	return certs, nil
}

// revokeOne revokes serial after check (nil: none) approves the record.
func (s *Service) revokeOne(ctx context.Context, src audit.Source, serial Serial, reason Reason, check func(*Certificate) error) (*Certificate, error) {
	var c *Certificate
	changed := false
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		c, err = tx.CertificateBySerial(ctx, serial)
		if fault.Is(err, fault.NotFound) {
			return errCertNotFound
		}
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(c); err != nil {
				return err
			}
		}
		if c.Revoked() {
			return nil
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		if err := revokeInTx(ctx, tx, src, c, now, reason); err != nil {
			return err
		}
		changed = true
		return tx.BumpRevision(ctx)
	})
	if err != nil {
		return nil, err
	}
	if changed {
		s.afterRevoke(ctx, c)
	}
	return c, nil
}

// revokeInTx marks c revoked at at and records the audit entry; the caller
// bumps the revision once per transaction.
func revokeInTx(ctx context.Context, tx Tx, src audit.Source, c *Certificate, at time.Time, reason Reason) error {
	if err := tx.RevokeCertificate(ctx, c.Serial, at, reason); err != nil {
		return err
	}
	c.RevokedAt, c.Reason = &at, reason
	return audit.Record(ctx, tx, src, c.GroupID, "pki.revoke", c.target(), map[string]any{
		"reason": reason, "kind": c.Kind, "common_name": c.CommonName,
	})
}

// afterRevoke publishes committed revocations and regenerates the CRLs
// (every CA's: each records the revision it includes). The revocations
// stand if regeneration fails: the next sync retries it.
func (s *Service) afterRevoke(ctx context.Context, certs ...*Certificate) {
	for _, c := range certs {
		s.publish(ctx, actionRevoked, c.GroupID, string(c.Serial))
	}
	if err := s.sync(ctx); err != nil {
		s.log.Warn("regenerating the CRL after a revocation; the next sync retries", "error", err)
	}
}
