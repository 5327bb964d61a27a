package apikey

import (
	"context"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// Self returns the key p authenticated with: a key may always describe
// itself, whatever its scopes (GateKey's programs check a key this way
// before storing it). Errors: not_found (p is no API key, or its key is
// gone).
func (s *Service) Self(ctx context.Context, p *authz.Principal) (*Key, error) {
	if p == nil || p.Kind != authz.KindAPIKey || p.KeyID == "" {
		return nil, fault.New(fault.NotFound, "this credential is no API key")
	}
	k, err := s.store.Read().APIKeyByID(ctx, p.KeyID)
	if fault.Is(err, fault.NotFound) {
		return nil, errKeyNotFound
	}
	return k, err
}
