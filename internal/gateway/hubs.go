package gateway

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// HubInput is a mesh hub as a caller gives it. On create Name and
// GatewayID are required; on update nil fields keep their value, and
// Spokes, when given, replaces the hub's spokes.
type HubInput struct {
	GroupID     *int64 // create only, as for GatewayInput
	Name        *string
	Description *string
	GatewayID   *string
	Spokes      *[]Spoke
}

func hubTarget(id string) string { return "mesh-hub:" + id }

// apply validates in over h (h.GroupID set), resolving references through
// tx, and returns the names of the fields that changed.
func (in HubInput) apply(ctx context.Context, tx Tx, h *Hub) ([]string, error) {
	changed, err := applyLabel(in.Name, in.Description, &h.Name, &h.Description)
	if err != nil {
		return nil, err
	}
	if in.GatewayID != nil {
		if _, err := resolveGateways(ctx, tx, h.GroupID, []string{*in.GatewayID}); err != nil {
			return nil, notFoundAs(err, fault.Errorf(fault.NotFound, "gateway %q not found", *in.GatewayID).WithDetails(map[string]any{"field": "gateway_id"}))
		}
		if *in.GatewayID != h.GatewayID {
			h.GatewayID, changed = *in.GatewayID, append(changed, "gateway_id")
		}
	}
	if in.Spokes != nil {
		spokes, err := resolveSpokes(ctx, tx, h.GroupID, *in.Spokes)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(spokes, h.Spokes) {
			h.Spokes, changed = spokes, append(changed, "spokes")
		}
	}
	for _, sp := range h.Spokes {
		if sp.Kind == SpokeGateway && sp.ID == h.GatewayID {
			return nil, invalidField("spokes", "a hub cannot be its own spoke")
		}
	}
	return changed, nil
}

// resolveSpokes checks every spoke names a gateway or network of groupID
// and returns them sorted without duplicates.
func resolveSpokes(ctx context.Context, tx Tx, groupID int64, in []Spoke) ([]Spoke, error) {
	out := make([]Spoke, 0, len(in))
	for _, sp := range in {
		switch sp.Kind {
		case SpokeGateway:
			if _, err := resolveGateways(ctx, tx, groupID, []string{sp.ID}); err != nil {
				return nil, notFoundAs(err, fault.Errorf(fault.NotFound, "gateway %q not found", sp.ID).WithDetails(map[string]any{"field": "spokes"}))
			}
		case SpokeNetwork:
			n, err := tx.VPNNetworkByID(ctx, sp.ID)
			if err != nil && !fault.Is(err, fault.NotFound) {
				return nil, err
			}
			if err != nil || n.GroupID != groupID {
				return nil, fault.Errorf(fault.NotFound, "network %q not found", sp.ID).WithDetails(map[string]any{"field": "spokes"})
			}
		default:
			return nil, invalidField("spokes", "a spoke's type must be gateway or network, not "+strings.TrimSpace(string(sp.Kind)))
		}
		out = append(out, sp)
	}
	slices.SortFunc(out, func(a, b Spoke) int { return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID)) })
	return slices.Compact(out), nil
}

// affected is every gateway whose configuration mentions h: the hub and
// its gateway spokes.
func (h *Hub) affected() []string {
	ids := []string{h.GatewayID}
	for _, sp := range h.Spokes {
		if sp.Kind == SpokeGateway {
			ids = append(ids, sp.ID)
		}
	}
	return ids
}

// hubsWithSpoke returns the hub gateways of groupID's hubs that have the
// spoke (kind, id).
func (s *Service) hubsWithSpoke(ctx context.Context, tx Tx, groupID int64, kind SpokeKind, id string) ([]string, error) {
	hubs, err := tx.ListMeshHubs(ctx, groupID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, h := range hubs {
		if slices.Contains(h.Spokes, Spoke{Kind: kind, ID: id}) {
			out = append(out, h.GatewayID)
		}
	}
	return out, nil
}

// CreateHub creates a mesh hub in p's group. Errors: invalid, forbidden,
// not_found (gateway, spokes, group_id), conflict (name).
func (s *Service) CreateHub(ctx context.Context, p *authz.Principal, src audit.Source, in HubInput) (*Hub, error) {
	if err := allowAdminAny(p, actGatewaysWrite); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, invalidField("name", "name is required")
	}
	if in.GatewayID == nil {
		return nil, invalidField("gateway_id", "gateway_id is required")
	}
	now := s.stamp()
	h := &Hub{ID: newID("hub-"), Spokes: []Spoke{}, CreatedAt: now, UpdatedAt: now}
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if h.GroupID, err = targetGroup(ctx, tx, p, in.GroupID); err != nil {
			return err
		}
		if _, err := in.apply(ctx, tx, h); err != nil {
			return err
		}
		if err := tx.InsertMeshHub(ctx, h); err != nil {
			return err
		}
		if err := tx.BumpGatewayVersions(ctx, h.affected(), now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, h.GroupID, "mesh-hub.create", hubTarget(h.ID), map[string]any{
			"name": h.Name, "gateway_id": h.GatewayID, "spokes": len(h.Spokes),
		})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "hub.created", h.GroupID, h.ID)
	return h, nil
}

// AdminHubs lists the hubs p administers, by name. Errors: forbidden.
func (s *Service) AdminHubs(ctx context.Context, p *authz.Principal) ([]*Hub, error) {
	if err := allowAdminAny(p, actGatewaysRead); err != nil {
		return nil, err
	}
	return s.store.Read().ListMeshHubs(ctx, p.GroupScope())
}

// AdminHub returns one hub p administers. Errors: forbidden, not_found.
func (s *Service) AdminHub(ctx context.Context, p *authz.Principal, id string) (*Hub, error) {
	h, err := s.store.Read().MeshHubByID(ctx, id)
	if err != nil {
		return nil, notFoundAs(err, errHubNotFound)
	}
	if err := allowAdmin(p, actGatewaysRead, h.GroupID, errHubNotFound); err != nil {
		return nil, err
	}
	return h, nil
}

// UsableHubs lists the hubs whose hub gateway p's user may use (see
// UsableGateway) and whose members, if it has any, admit the user, by name.
func (s *Service) UsableHubs(ctx context.Context, p *authz.Principal) ([]*Hub, error) {
	gws, err := s.UsableGateways(ctx, p)
	if err != nil || len(gws) == 0 {
		return []*Hub{}, err
	}
	usable := make(map[string]bool, len(gws))
	for _, g := range gws {
		usable[g.ID] = true
	}
	hubs, err := s.store.Read().ListMeshHubs(ctx, gws[0].GroupID)
	if err != nil {
		return nil, err
	}
	out := make([]*Hub, 0, len(hubs))
	u := &identity.User{ID: p.UserID, GroupID: p.GroupID}
	for _, h := range hubs {
		if !usable[h.GatewayID] {
			continue
		}
		ok, err := hubAdmits(ctx, s.store.Read(), h, u)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, h)
		}
	}
	return out, nil
}

// UpdateHub changes a hub. Errors: invalid, forbidden, not_found, conflict.
func (s *Service) UpdateHub(ctx context.Context, p *authz.Principal, src audit.Source, id string, in HubInput) (*Hub, error) {
	if in.GroupID != nil {
		return nil, invalidField("group_id", "a hub cannot move to another group")
	}
	return s.changeHub(ctx, p, src, id, func(*Hub) (HubInput, error) { return in, nil })
}

// changeHub applies the input change derives from the hub as stored, in
// one transaction with the check that p may change it, the gateways'
// version bump and the audit entry.
func (s *Service) changeHub(ctx context.Context, p *authz.Principal, src audit.Source, id string,
	change func(cur *Hub) (HubInput, error)) (*Hub, error) {
	var (
		h         *Hub
		unchanged bool
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.MeshHubByID(ctx, id)
		if err != nil {
			return notFoundAs(err, errHubNotFound)
		}
		if err := allowAdmin(p, actGatewaysWrite, cur.GroupID, errHubNotFound); err != nil {
			return err
		}
		in, err := change(cur)
		if err != nil {
			return err
		}
		next := *cur
		changed, err := in.apply(ctx, tx, &next)
		if err != nil || len(changed) == 0 {
			h, unchanged = cur, true
			return err
		}
		next.UpdatedAt = s.stamp()
		if err := tx.UpdateMeshHub(ctx, &next); err != nil {
			return err
		}
		if err := tx.BumpGatewayVersions(ctx, append(cur.affected(), next.affected()...), next.UpdatedAt); err != nil {
			return err
		}
		h = &next
		return audit.Record(ctx, tx, src, h.GroupID, "mesh-hub.update", hubTarget(h.ID), map[string]any{"changed": changed})
	})
	if err != nil {
		return nil, err
	}
	if !unchanged {
		s.publish(ctx, "hub.updated", h.GroupID, h.ID)
	}
	return h, nil
}

var errSpokeNotFound = fault.New(fault.NotFound, "mesh spoke not found")

// AddSpoke adds sp to the hub's spokes (audited as mesh-hub.update).
// Errors: as UpdateHub, and conflict when the hub has it already.
func (s *Service) AddSpoke(ctx context.Context, p *authz.Principal, src audit.Source, hubID string, sp Spoke) (*Hub, error) {
	return s.changeHub(ctx, p, src, hubID, func(cur *Hub) (HubInput, error) {
		if slices.Contains(cur.Spokes, sp) {
			return HubInput{}, fault.New(fault.Conflict, "the hub has this spoke already")
		}
		spokes := append(slices.Clone(cur.Spokes), sp)
		return HubInput{Spokes: &spokes}, nil
	})
}

// RemoveSpoke removes sp from the hub's spokes (audited as
// mesh-hub.update). Errors: forbidden, not_found (hub or spoke).
func (s *Service) RemoveSpoke(ctx context.Context, p *authz.Principal, src audit.Source, hubID string, sp Spoke) (*Hub, error) {
	return s.changeHub(ctx, p, src, hubID, func(cur *Hub) (HubInput, error) {
		i := slices.Index(cur.Spokes, sp)
		if i < 0 {
			return HubInput{}, errSpokeNotFound
		}
		spokes := slices.Delete(slices.Clone(cur.Spokes), i, i+1)
		return HubInput{Spokes: &spokes}, nil
	})
}

// DeleteHub deletes a hub. Errors: forbidden, not_found.
func (s *Service) DeleteHub(ctx context.Context, p *authz.Principal, src audit.Source, id string) error {
	var h *Hub
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if h, err = tx.MeshHubByID(ctx, id); err != nil {
			return notFoundAs(err, errHubNotFound)
		}
		if err := allowAdmin(p, actGatewaysWrite, h.GroupID, errHubNotFound); err != nil {
			return err
		}
		if err := tx.DeleteMeshHub(ctx, id); err != nil {
			return notFoundAs(err, errHubNotFound)
		}
		if err := tx.BumpGatewayVersions(ctx, h.affected(), s.stamp()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, h.GroupID, "mesh-hub.delete", hubTarget(id), map[string]any{"name": h.Name})
	})
	if err != nil {
		return err
	}
	s.publish(ctx, "hub.deleted", h.GroupID, id)
	return nil
}
