package nas

import (
	"context"
	"fmt"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// All returns every client with its secret opened, for the RADIUS server's
// client table. A client whose secret does not open (another server secret)
// is skipped and reported in the error, which does not stop the others.
func (s *Service) All(ctx context.Context) ([]*Client, error) {
	cs, err := s.store.Read().ListRadiusClients(ctx, 0)
	if err != nil {
		return nil, err
	}
	out := cs[:0]
	var bad []int64
	for _, c := range cs {
		if err := s.open(c); err != nil {
			bad = append(bad, c.ID)
			continue
		}
		out = append(out, c)
	}
	if len(bad) > 0 {
		s.log.Error("RADIUS client secrets do not open under this server secret; those clients are ignored", "clients", bad)
	}
	return out, nil
}

// ByID returns one client with its secret opened; not_found if missing.
func (s *Service) ByID(ctx context.Context, id int64) (*Client, error) {
	c, err := s.store.Read().RadiusClientByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return c, s.open(c)
}

func (s *Service) open(c *Client) error {
	pt, err := s.seal.Open(c.SealedSecret, sealContext(c.ID))
	if err != nil {
		return fmt.Errorf("RADIUS client %d: %w", c.ID, err)
	}
	c.Secret, c.SealedSecret = string(pt), nil
	if c.MACPassword == MACPasswordFixed {
		pt, err := s.seal.Open(c.SealedMACPassword, macPasswordContext(c.ID))
		if err != nil {
			return fmt.Errorf("RADIUS client %d: MAC-authentication password: %w", c.ID, err)
		}
		c.FixedMACPassword = string(pt)
	}
	c.SealedMACPassword = nil
	return nil
}

// ApplySessions records what accounting reported, in one transaction.
func (s *Service) ApplySessions(ctx context.Context, b SessionBatch) error {
	if b.Empty() {
		return nil
	}
	return s.store.InTx(ctx, func(tx Tx) error { return tx.ApplyRadiusSessions(ctx, b) })
}

// Sessions lists the online sessions p may see: updated within StaleAfter,
// of p's group (every group for super principals), most recent first, and
// the total matching. Errors: unauthorized, forbidden, invalid (paging).
func (s *Service) Sessions(ctx context.Context, p *authz.Principal, f SessionFilter) ([]*Session, int, error) {
	if err := authz.Allow(p, actionRead, authz.Any); err != nil {
		return nil, 0, err
	}
	f.GroupID = p.GroupScope()
	if f.Limit <= 0 || f.Limit > 1000 || f.Offset < 0 {
		return nil, 0, fault.New(fault.Invalid, "limit must be 1..1000 and offset non-negative")
	}
	return s.store.Read().ListRadiusSessions(ctx, f, s.now().Add(-StaleAfter).UTC())
}
