package offboard

import (
	"context"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/pki"
)

var errConfigsFailed = fault.New(fault.Unavailable, "some VPN configurations could not be revoked; try again")

// VPNConfigs revokes every live VPN client configuration of user id (an
// administrator's "revoke all of this user's configs"), exactly as Offboard
// revokes them, and nothing else of the user's: the account, its
// certificates issued otherwise and its live sessions stay. reason is an
// RFC 5280 name; "" is privilegeWithdrawn. Each configuration's revocation
// is its facet's own (authorized, audited, its WireGuard peer pushed off the
// gateway); there is no summary entry. It goes on past a failure and then
// answers unavailable: calling again finishes the job, and a user without
// live configurations changes nothing.
// Errors: not_found (no such user, or another group's), forbidden (p may
// not revoke configurations), invalid (reason), unavailable, unauthorized.
func (s *Service) VPNConfigs(ctx context.Context, p *authz.Principal, src audit.Source, id int64, reason string) (*Report, error) {
	r := pki.PrivilegeWithdrawn
	if reason != "" {
		var err error
		if r, err = pki.ParseReason(reason); err != nil {
			return nil, err
		}
	}
	if s.configs == nil {
		return nil, fault.New(fault.Unavailable, "VPN configurations are not served")
	}
	u, err := s.users.GetUser(ctx, p, id)
	if err != nil {
		return nil, err
	}
	start := s.now().UTC()
	cfgs, err := s.liveConfigs(ctx, p, u.ID, s.now())
	if err != nil {
		return nil, err
	}
	e := &enforcement{s: s, p: p, src: src}
	e.revokeConfigs(ctx, cfgs, r)
	if e.failed {
		return nil, errConfigsFailed
	}
	return &Report{User: u, Enforced: true, Items: e.items, Started: start, Finished: s.now().UTC()}, nil
}
