package apikey

import (
	"context"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
)

// The administration console's key views (GateKey's /api/v1/admin/api-keys)
// are List, Get and Revoke for administrators only (authz.Administer): a
// USER, who manages its own keys elsewhere, is refused (forbidden) here.

// ListAsAdmin is List for an administrator. Errors: unauthorized,
// forbidden (p lacks apikeys:manage, or is no administrator).
func (s *Service) ListAsAdmin(ctx context.Context, p *authz.Principal) ([]*Key, error) {
	if err := authz.Allow(p, actionManage, authz.Any); err != nil {
		return nil, err
	}
	if err := authz.Allow(p, authz.Administer, authz.Any); err != nil {
		return nil, err
	}
	return s.List(ctx, p)
}

// GetAsAdmin is Get for an administrator. Errors: as Get; forbidden for
// anyone but an administrator.
func (s *Service) GetAsAdmin(ctx context.Context, p *authz.Principal, id string) (*Key, error) {
	if err := authz.Allow(p, authz.Administer, authz.Any); err != nil {
		return nil, err
	}
	return s.Get(ctx, p, id)
}

// RevokeAsAdmin is Revoke for an administrator. Errors: as Revoke;
// forbidden for anyone but an administrator.
func (s *Service) RevokeAsAdmin(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*Key, error) {
	if err := authz.Allow(p, authz.Administer, authz.Any); err != nil {
		return nil, err
	}
	return s.Revoke(ctx, p, src, id)
}
