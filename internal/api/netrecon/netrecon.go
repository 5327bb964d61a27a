// Package netrecon serves the NetRecon dialect of netkeep's API: its API keys
// under /api/v1/api-keys, which are nr_live_ keys with NetRecon's permission
// names (scans_read, devices_write, api_keys_manage, ...), with
// {"error": {"code", "message"}} errors. NetRecon's login and refresh are
// shared with Nekzus and served by package nekzus. Handlers are thin: decode,
// call the domain, encode. It imports api and domain packages, never store.
package netrecon

import (
	"netkeep/internal/api"
	"netkeep/internal/ratelimit"
)

// Handlers serves the dialect.
type Handlers struct {
	Keys api.APIKeys
	// OAuth2 is the authorization server; nil serves none of its routes.
	OAuth2 *OAuth2
	// Limiter counts sign-ins per source address (nil: none).
	Limiter *ratelimit.Limiter
}
