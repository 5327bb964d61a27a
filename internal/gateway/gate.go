package gateway

import (
	"context"

	"netkeep/internal/identity"
)

// AddressGate decides whether user u may connect through gateway gatewayID
// from addr, the client's public address as the gateway saw it; an error
// refuses the client and is returned as it is (geo-fencing returns
// forbidden, reason geo_blocked). The gate audits its own refusals.
type AddressGate func(ctx context.Context, u *identity.User, gatewayID, addr string) error

// WithAddressGate asks g at every verification that reports the client's
// address (verify, connect, client-rules).
func WithAddressGate(g AddressGate) Option { return func(s *Service) { s.gate = g } }
