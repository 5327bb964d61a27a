package identity

import (
	"context"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
)

// CreateGroup creates a group (SUPER_ADMIN).
func (s *Service) CreateGroup(ctx context.Context, p *authz.Principal, src audit.Source, name string) (*Group, error) {
	if err := authz.Allow(p, "groups:write", authz.Any); err != nil {
		return nil, err
	}
	name, err := validateGroupName(name)
	if err != nil {
		return nil, err
	}
	g := &Group{Name: name}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, g.ID, "group.create", groupTarget(g.ID), map[string]any{"name": name})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "group", "created", g.ID, groupTarget(g.ID))
	return g, nil
}

// ListGroups returns the groups p may see: all for super principals, its own
// otherwise.
func (s *Service) ListGroups(ctx context.Context, p *authz.Principal) ([]Group, error) {
	if err := authz.Allow(p, "groups:read", authz.Any); err != nil {
		return nil, err
	}
	if p.IsSuper() {
		return s.store.Read().ListGroups(ctx)
	}
	g, err := s.store.Read().GroupByID(ctx, p.GroupID)
	if err != nil {
		return nil, err
	}
	return []Group{*g}, nil
}

// GetGroup returns a group p may see.
func (s *Service) GetGroup(ctx context.Context, p *authz.Principal, id int64) (*Group, error) {
	if err := authz.Allow(p, "groups:read", authz.Resource{GroupID: id}); err != nil {
		return nil, hide(err, "group not found")
	}
	return s.store.Read().GroupByID(ctx, id)
}

// RenameGroup renames a group (SUPER_ADMIN); the default group keeps its
// name (conflict).
func (s *Service) RenameGroup(ctx context.Context, p *authz.Principal, src audit.Source, id int64, name string) (*Group, error) {
	if err := authz.Allow(p, "groups:write", authz.Resource{GroupID: id}); err != nil {
		return nil, hide(err, "group not found")
	}
	name, err := validateGroupName(name)
	if err != nil {
		return nil, err
	}
	if err := s.refuseDefault(ctx, id); err != nil {
		return nil, err
	}
	var g *Group
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.RenameGroup(ctx, id, name); err != nil {
			return err
		}
		var err error
		if g, err = tx.GroupByID(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, id, "group.update", groupTarget(id), map[string]any{"name": name})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "group", "updated", id, groupTarget(id))
	return g, nil
}

// DeleteGroup deletes an empty group (SUPER_ADMIN); the default group stays
// (conflict).
func (s *Service) DeleteGroup(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error {
	if err := authz.Allow(p, "groups:write", authz.Resource{GroupID: id}); err != nil {
		return hide(err, "group not found")
	}
	if err := s.refuseDefault(ctx, id); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.DeleteGroup(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, 0, "group.delete", groupTarget(id), nil)
	})
	if err != nil {
		return err
	}
	s.publish(ctx, "group", "deleted", id, groupTarget(id))
	return nil
}

// ListAudit returns audit entries p may read: its group's (all for super).
func (s *Service) ListAudit(ctx context.Context, p *authz.Principal, q audit.Query) ([]audit.Entry, error) {
	q, err := auditScope(p, q)
	if err != nil {
		return nil, err
	}
	return s.store.Read().ListAudit(ctx, q)
}

// AuditPage is ListAudit with the number of entries q's filters select in
// all, whatever its limit and offset.
func (s *Service) AuditPage(ctx context.Context, p *authz.Principal, q audit.Query) ([]audit.Entry, int, error) {
	q, err := auditScope(p, q)
	if err != nil {
		return nil, 0, err
	}
	rd := s.store.Read()
	entries, err := rd.ListAudit(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	total, err := rd.CountAudit(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	return entries, total, nil
}

// auditScope checks that p may read the audit log and confines q to p's
// group (every group for super principals).
func auditScope(p *authz.Principal, q audit.Query) (audit.Query, error) {
	if err := authz.Allow(p, "audit:read", authz.Any); err != nil {
		return q, err
	}
	if !p.IsSuper() {
		gid := p.GroupID
		q.GroupID = &gid
	} else {
		q.GroupID = nil
	}
	return q, nil
}
