package offboard

import (
	"context"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// Device offboards one paired device (a lost phone): it is revoked and its
// WebSockets close with device_revoked. DryRun lists it. A revoked
// device is not found, so a second call answers not_found.
// Errors: not_found (also another group's), forbidden, unauthorized.
func (s *Service) Device(ctx context.Context, p *authz.Principal, src audit.Source, id string, dryRun bool) (*Report, error) {
	if s.devices == nil {
		return nil, fault.New(fault.NotFound, "device not found")
	}
	d, err := s.devices.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := authz.Allow(p, "devices:write", authz.Resource{GroupID: d.GroupID}); err != nil {
		return nil, err
	}
	r := &Report{DryRun: dryRun, Started: s.now().UTC()}
	it := Item{Facet: FacetDevice, ID: d.ID, Name: d.Name, State: Active}
	if !dryRun {
		if _, err := s.devices.Revoke(ctx, p, src, d.ID); err != nil {
			return nil, err
		}
		it.State, it.EndedAt, r.Enforced = Revoked, s.now().UTC(), true
	}
	r.Items, r.Finished = []Item{it}, s.now().UTC()
	return r, nil
}

// Node offboards one mesh node (a stolen laptop): it leaves every peer's
// list at once and its credentials stop working. DryRun lists it. Like
// Device, it is an administrator's act: a USER is refused, even for a node
// it enrolled.
// Errors: not_found (also another group's), forbidden, unauthorized.
func (s *Service) Node(ctx context.Context, p *authz.Principal, src audit.Source, netid, mac string, dryRun bool) (*Report, error) {
	if s.mesh == nil {
		return nil, fault.New(fault.NotFound, "node not found")
	}
	n, _, err := s.mesh.GetNode(ctx, p, netid, mac)
	if err != nil {
		return nil, err
	}
	// Checked before the dry run too: a USER may read the group's nodes
	// but not list them for ending.
	if err := authz.Allow(p, "nodes:write", authz.Resource{GroupID: n.GroupID}); err != nil {
		return nil, err
	}
	r := &Report{DryRun: dryRun, Started: s.now().UTC()}
	it := nodeItem(n, Active)
	if !dryRun {
		if err := s.mesh.DeleteNode(ctx, p, src, n.Network, n.MAC); err != nil {
			return nil, err
		}
		it.State, it.EndedAt, r.Enforced = Removed, s.now().UTC(), true
	}
	r.Items, r.Finished = []Item{it}, s.now().UTC()
	return r, nil
}
