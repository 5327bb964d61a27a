package psk

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// ListEndpoints returns a page of the endpoints p may see, ordered by ID.
// Errors: unauthorized, forbidden (p lacks endpoints:read), invalid (paging).
func (s *Service) ListEndpoints(ctx context.Context, p *authz.Principal, f EndpointFilter) (*EndpointPage, error) {
	if err := authz.Allow(p, actEndpointRead, authz.Any); err != nil {
		return nil, err
	}
	if !p.IsSuper() {
		f.GroupID = p.GroupID
	}
	if err := paging(&f.Limit, f.Offset); err != nil {
		return nil, err
	}
	f.Search = strings.ToLower(strings.TrimSpace(f.Search))
	tx := s.store.Read()
	es, err := tx.ListEndpoints(ctx, f)
	if err != nil {
		return nil, err
	}
	total, err := tx.CountEndpoints(ctx, f)
	if err != nil {
		return nil, err
	}
	return &EndpointPage{Endpoints: es, Total: total}, nil
}

// GetEndpoint returns one endpoint; another group's is ENDPOINT_NOT_FOUND.
func (s *Service) GetEndpoint(ctx context.Context, p *authz.Principal, id int64) (*Endpoint, error) {
	e, err := s.store.Read().EndpointByID(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, EndpointNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if err := authz.Allow(p, actEndpointRead, authz.Resource{GroupID: e.GroupID}); err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, EndpointNotFound(id)
		}
		return nil, err
	}
	return e, nil
}

// CreateEndpoint binds a MAC address to a PSK. The endpoint joins the PSK's
// group. A PSK named by psk_id is looked up in groupID (super principals) or
// p's group.
// Errors: invalid (a field), not_found PSK_NOT_FOUND (no such PSK visible to
// p), conflict ENDPOINT_EXISTS (the MAC is bound in the group already),
// forbidden (p lacks endpoints:write, or a USER binding to another user's
// PSK).
func (s *Service) CreateEndpoint(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, in NewEndpoint) (*Endpoint, error) {
	out, err := s.createEndpoints(ctx, p, src, groupID, []NewEndpoint{in}, func(_ int, err error) error { return err })
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// CreateEndpointsBulk creates up to MaxBulk endpoints in one transaction,
// all or none; an item's error carries its index as CreateBulk's do.
func (s *Service) CreateEndpointsBulk(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, items []NewEndpoint) ([]*Endpoint, error) {
	switch {
	case len(items) == 0:
		return nil, invalid("endpoints", "at least one endpoint is required")
	case len(items) > MaxBulk:
		return nil, invalid("endpoints", fmt.Sprintf("at most %d endpoints per request", MaxBulk))
	}
	return s.createEndpoints(ctx, p, src, groupID, items, atIndex)
}

func (s *Service) createEndpoints(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, items []NewEndpoint,
	locate func(int, error) error) ([]*Endpoint, error) {
	if err := authz.Allow(p, actEndpointWrite, authz.Any); err != nil {
		return nil, err
	}
	now := s.stamp()
	out := make([]*Endpoint, len(items))
	for i, in := range items {
		e, err := prepareEndpoint(in)
		if err != nil {
			return nil, locate(i, err)
		}
		e.CreatedAt, e.UpdatedAt = now, now
		out[i] = e
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		byGroup := map[int64][]int{}
		resolved := map[PSKRef]*Row{} // a bulk request binds many MACs to few PSKs
		for i, in := range items {
			r, ok := resolved[in.PSK]
			if !ok {
				var err error
				if r, err = s.resolvePSK(ctx, tx, p, groupID, in.PSK); err != nil {
					return locate(i, err)
				}
				resolved[in.PSK] = r
			}
			out[i].GroupID, out[i].PSKID = r.GroupID, r.ID
			byGroup[r.GroupID] = append(byGroup[r.GroupID], i)
		}
		first, firstErr := len(items), error(nil)
		for g, idx := range byGroup {
			macs := make([][]string, len(idx))
			for k, i := range idx {
				macs[k] = []string{out[i].MAC}
			}
			k, err := claimMACs(ctx, tx, g, macs, map[string]bool{})
			if err != nil && k < 0 {
				return err
			}
			if err != nil && idx[k] < first {
				first, firstErr = idx[k], err
			}
		}
		if firstErr != nil {
			return locate(first, firstErr)
		}
		if err := tx.InsertEndpoints(ctx, out); err != nil {
			return endpointConflict(err)
		}
		entries := make([]*audit.Entry, len(out))
		for i, e := range out {
			var err error
			if entries[i], err = audit.NewEntry(src, e.GroupID, "endpoint.create", endpointTarget(e.ID), endpointAudit(e)); err != nil {
				return err
			}
		}
		return audit.RecordAll(ctx, tx, entries)
	})
	if err != nil {
		return nil, err
	}
	for _, e := range out {
		s.publishEndpoint(ctx, ActionCreated, e)
	}
	return out, nil
}

func prepareEndpoint(in NewEndpoint) (*Endpoint, error) {
	if strings.TrimSpace(in.MAC) == "" {
		return nil, errNoMAC
	}
	mac, err := ParseMAC(in.MAC)
	if err != nil {
		return nil, err
	}
	if in.PSK.ID == 0 && in.PSK.Name == "" {
		return nil, invalid("psk_id", "psk_id is required")
	}
	if err := validateDescription(in.Description); err != nil {
		return nil, err
	}
	e := &Endpoint{MAC: mac, Description: in.Description, Enabled: true}
	if in.VLANID != nil {
		if err := ValidateVLAN("vlan_id", *in.VLANID); err != nil {
			return nil, err
		}
		v := *in.VLANID
		e.VLANID = &v
	}
	if in.Enabled != nil {
		e.Enabled = *in.Enabled
	}
	return e, nil
}

// resolvePSK finds the PSK ref names and checks that p may bind endpoints to
// it. A name is looked up in groupID (or p's group) and, failing that, read
// as a numeric ID. A PSK p cannot see is PSK_NOT_FOUND.
func (s *Service) resolvePSK(ctx context.Context, tx Tx, p *authz.Principal, groupID int64, ref PSKRef) (*Row, error) {
	var (
		r   *Row
		err error
	)
	var shown any = ref.ID
	if ref.ID > 0 {
		r, err = tx.PSKRow(ctx, ref.ID)
	} else {
		shown = ref.Name
		g, gerr := targetGroup(p, groupID)
		if gerr != nil {
			return nil, gerr
		}
		r, err = tx.PSKRowByName(ctx, g, ref.Name)
		if fault.Is(err, fault.NotFound) {
			if n, perr := strconv.ParseInt(ref.Name, 10, 64); perr == nil && n > 0 {
				r, err = tx.PSKRow(ctx, n)
			}
		}
	}
	if fault.Is(err, fault.NotFound) {
		return nil, PSKNotFound(shown)
	}
	if err != nil {
		return nil, err
	}
	if err := authz.Allow(p, actEndpointWrite, authz.Resource{GroupID: r.GroupID, OwnerID: r.CreatedBy}); err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, PSKNotFound(shown)
		}
		return nil, err
	}
	return r, nil
}

// UpdateEndpoint applies patch. A new PSK must be in the endpoint's group.
// Errors: not_found ENDPOINT_NOT_FOUND or PSK_NOT_FOUND, invalid, conflict
// ENDPOINT_EXISTS, forbidden.
func (s *Service) UpdateEndpoint(ctx context.Context, p *authz.Principal, src audit.Source, id int64, patch EndpointPatch) (*Endpoint, error) {
	var e *Endpoint
	changed := map[string]any{}
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if e, err = s.endpointForChange(ctx, tx, p, id); err != nil {
			return err
		}
		if patch.MAC != nil {
			mac, err := ParseMAC(*patch.MAC)
			if err != nil {
				return err
			}
			if mac != e.MAC {
				if _, err := claimMACs(ctx, tx, e.GroupID, [][]string{{mac}}, map[string]bool{}); err != nil {
					return err
				}
				e.MAC, changed["mac_address"] = mac, mac
			}
		}
		if patch.Description != nil && *patch.Description != e.Description {
			if err := validateDescription(*patch.Description); err != nil {
				return err
			}
			e.Description, changed["description"] = *patch.Description, *patch.Description
		}
		if patch.PSK != nil {
			r, err := s.resolvePSK(ctx, tx, p, e.GroupID, *patch.PSK)
			if err != nil {
				return err
			}
			if r.GroupID != e.GroupID {
				return PSKNotFound(r.ID)
			}
			if r.ID != e.PSKID {
				e.PSKID, changed["psk"] = r.ID, r.ID
			}
		}
		switch {
		case patch.ClearVLAN && e.VLANID != nil:
			e.VLANID, changed["vlan_id"] = nil, nil
		case patch.VLANID != nil && !patch.ClearVLAN:
			if err := ValidateVLAN("vlan_id", *patch.VLANID); err != nil {
				return err
			}
			if e.VLANID == nil || *e.VLANID != *patch.VLANID {
				v := *patch.VLANID
				e.VLANID, changed["vlan_id"] = &v, v
			}
		}
		if patch.Enabled != nil && *patch.Enabled != e.Enabled {
			e.Enabled, changed["enabled"] = *patch.Enabled, *patch.Enabled
		}
		if len(changed) == 0 {
			return nil
		}
		e.UpdatedAt = s.stamp()
		if err := tx.UpdateEndpoint(ctx, e); err != nil {
			if fault.Is(err, fault.Conflict) {
				return macExists(e.MAC)
			}
			return err
		}
		return audit.Record(ctx, tx, src, e.GroupID, "endpoint.update", endpointTarget(e.ID), changed)
	})
	if err != nil {
		return nil, err
	}
	if len(changed) > 0 {
		s.publishEndpoint(ctx, ActionUpdated, e)
	}
	return e, nil
}

// DeleteEndpoint removes an endpoint. Errors as for UpdateEndpoint.
func (s *Service) DeleteEndpoint(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error {
	var e *Endpoint
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if e, err = s.endpointForChange(ctx, tx, p, id); err != nil {
			return err
		}
		if err := tx.DeleteEndpoint(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, e.GroupID, "endpoint.delete", endpointTarget(id), map[string]any{"mac_address": e.MAC, "psk": e.PSKID})
	})
	if err != nil {
		return err
	}
	s.publishEndpoint(ctx, ActionDeleted, e)
	return nil
}

// endpointForChange reads the endpoint inside tx and checks that p may
// change it: endpoints:write over its group, and for a USER, its PSK must be
// the user's own.
func (s *Service) endpointForChange(ctx context.Context, tx Tx, p *authz.Principal, id int64) (*Endpoint, error) {
	if err := authz.Allow(p, actEndpointWrite, authz.Any); err != nil {
		return nil, err
	}
	e, err := tx.EndpointByID(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, EndpointNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	r, err := tx.PSKRow(ctx, e.PSKID)
	if err != nil {
		return nil, err
	}
	if err := authz.Allow(p, actEndpointWrite, authz.Resource{GroupID: e.GroupID, OwnerID: r.CreatedBy}); err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, EndpointNotFound(id)
		}
		return nil, err
	}
	return e, nil
}

func endpointAudit(e *Endpoint) map[string]any {
	return map[string]any{"mac_address": e.MAC, "psk": e.PSKID, "vlan_id": e.VLANID, "enabled": e.Enabled, "description": e.Description}
}
