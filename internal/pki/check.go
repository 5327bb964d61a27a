package pki

import (
	"context"

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
