// Package own serves netkeep's own API, the paths no seed documents: groups
// (tenants) under /api/v1/groups, a person's access inventory and
// offboarding (/api/v1/users/{id}/access and /offboard, which no NetKey
// document names, so they answer in this envelope although NetKey owns the
// rest of /api/v1/users; /api/v1/offboard/*), with the {"error": {"code",
// "message"}} envelope. SUPER_ADMIN manages every group; a GROUP_ADMIN sees its own.
// Handlers are thin: decode, call the identity domain, encode. It imports api
// and domain packages, never store.
package own

import (
	"context"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/identity"
)

// Identity is what these handlers need of the identity domain.
type Identity interface {
	ListGroups(ctx context.Context, p *authz.Principal) ([]identity.Group, error)
	GetGroup(ctx context.Context, p *authz.Principal, id int64) (*identity.Group, error)
	CreateGroup(ctx context.Context, p *authz.Principal, src audit.Source, name string) (*identity.Group, error)
	RenameGroup(ctx context.Context, p *authz.Principal, src audit.Source, id int64, name string) (*identity.Group, error)
	DeleteGroup(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error
}

// Handlers serves netkeep's own paths.
type Handlers struct {
	Identity Identity
	// SSO serves identity providers and OpenID discovery; nil: none.
	SSO *SSO
	// Offboard serves a person's access inventory and offboarding; nil:
	// the routes are not registered.
	Offboard Offboarder
}
