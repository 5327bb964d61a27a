// Package netrecon serves the NetRecon dialect of netkeep's API: its API keys
// under /api/v1/api-keys, which are nr_live_ keys with NetRecon's permission
// names (scans_read, devices_write, api_keys_manage, ...), with
// {"error": {"code", "message"}} errors. NetRecon's login and refresh are
// shared with Nekzus and served by package nekzus. Handlers are thin: decode,
// call the domain, encode. It imports api and domain packages, never store.
package netrecon

import (
	"context"

	"netkeep/internal/apikey"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
)

// APIKeys is what these handlers need of the API key domain.
type APIKeys interface {
	Create(ctx context.Context, p *authz.Principal, src audit.Source, in apikey.NewKey) (*apikey.Key, string, error)
	List(ctx context.Context, p *authz.Principal) ([]*apikey.Key, error)
	Get(ctx context.Context, p *authz.Principal, id string) (*apikey.Key, error)
	Revoke(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*apikey.Key, error)
	Delete(ctx context.Context, p *authz.Principal, src audit.Source, id string) error
}

// Handlers serves the dialect.
type Handlers struct {
	Keys APIKeys
}
