package gateway

import (
	"context"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
)

// Reprovision makes a gateway fetch a new server certificate and its
// group's trust again (after a CA change, or to renew its keys on demand):
// its next heartbeat answers needs_reprovision, its agent provisions, and
// the certificate it holds now is revoked as superseded then. Until then
// the gateway keeps serving with what it has, so no client is cut off by
// the request itself. Its config version rises too, so the agent also
// refreshes its rules. The request is recorded as a provision without a
// trust digest, which no group's trust matches (needsReprovision); the
// certificate serial stays, so Provision can supersede it.
// Errors: forbidden, not_found (also another group's gateway).
func (s *Service) Reprovision(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*Gateway, error) {
	var g *Gateway
	err := s.store.InTx(ctx, func(tx Tx) error {
		cur, err := writableGateway(ctx, tx, p, id)
		if err != nil {
			return err
		}
		next := *cur
		next.CAFingerprint = ""
		if err := tx.RecordProvision(ctx, &next); err != nil {
			return err
		}
		g = &next
		return s.saveChange(ctx, tx, src, g, "gateway.reprovision", map[string]any{"config_version": g.ConfigVersion + 1})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "gateway.updated", g.GroupID, g.ID)
	return g, nil
}
