package api

import (
	"context"

	"netkeep/internal/authz"
)

// DelegatedVerifier authenticates access tokens that netkeep's OAuth2
// provider issued to clients: they act for a user within granted scopes
// (authz.KindOAuth).
type DelegatedVerifier interface {
	// Issued reports cheaply whether token looks like one of its tokens
	// (without verifying it).
	Issued(token string) bool
	AuthenticateDelegated(ctx context.Context, token string) (*authz.Principal, error)
}
