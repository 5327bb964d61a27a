package identity

import (
	"context"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// Self returns the user a credential acts for (a session's user, an API
// key's creator) without asking for a scope: a credential may always
// describe itself. Errors: not_found (no user behind the credential).
func (s *Service) Self(ctx context.Context, p *authz.Principal) (*User, error) {
	if p == nil || p.UserID == 0 || (p.Kind != authz.KindUser && p.Kind != authz.KindAPIKey) {
		return nil, fault.New(fault.NotFound, "this credential has no user").WithReason(ReasonUserNotFound)
	}
	return s.store.Read().UserByID(ctx, p.UserID)
}
