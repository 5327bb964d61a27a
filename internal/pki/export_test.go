package pki

import (
	"context"
	"crypto"
	"time"
)

// SignerOf exposes the loaded CA key to tests that check it is never stored
// in the clear.
func SignerOf(s *Service) crypto.Signer {
	if a := s.ca.Load(); a != nil {
		return a.signer
	}
	return nil
}

// MintClient signs a client certificate for cn without recording it: the
// cost of issuance without the store.
func MintClient(s *Service, cn string) (*Issued, error) {
	c := &Certificate{Kind: KindClient, CommonName: cn, UserID: 1, GroupID: 1}
	return s.ca.Load().mint(c, s.now().UTC().Truncate(time.Second), s.cfg.ClientTTL, nil, nil)
}

// SignCRL signs a CRL listing entries without the store.
func SignCRL(s *Service, number int64, entries []Revocation) (*RevocationList, error) {
	now := s.now().UTC().Truncate(time.Second)
	return s.ca.Load().signCRL(number, 0, entries, now.Add(-backdate), now.Add(s.cfg.CRLValidity))
}

// Regenerate runs a full CRL regeneration: allocate, read, sign, store.
func Regenerate(ctx context.Context, s *Service) (*RevocationList, error) {
	return s.regenerate(ctx, s.ca.Load())
}

// NewSerial exposes the serial generator to tests and benchmarks.
var NewSerial = newSerial
