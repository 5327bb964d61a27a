package pki

import (
	"context"
	"time"

	"netkeep/internal/fault"
)

// Check returns the record of the certificate with the given serial (hex,
// case and colons ignored), revoked or not. It reveals no more than the
// public CRL does for revoked serials, and serials are unguessable, so it
// needs no principal. Errors: invalid (serial), not_found.
func (s *Service) Check(ctx context.Context, serial string) (*Certificate, error) {
	sn, err := ParseSerial(serial)
	if err != nil {
		return nil, err
	}
	return s.Certificate(ctx, sn)
}

// Certificate returns the record of serial. Errors: not_found.
func (s *Service) Certificate(ctx context.Context, serial Serial) (*Certificate, error) {
	c, err := s.store.Read().CertificateBySerial(ctx, serial)
	if fault.Is(err, fault.NotFound) {
		return nil, errCertNotFound
	}
	return c, err
}

// Unrevoked returns o's certificates that are neither revoked nor expired,
// by serial. The caller has authorized the read. Errors: invalid (no
// holder named).
func (s *Service) Unrevoked(ctx context.Context, o Owner) ([]*Certificate, error) {
	if o.UserID == 0 && o.GatewayID == "" && o.GroupID == 0 {
		return nil, fault.New(fault.Invalid, "name the certificates' holder")
	}
	return s.store.Read().UnrevokedCertificates(ctx, o, 0, s.now().UTC().Truncate(time.Microsecond))
}
