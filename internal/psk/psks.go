package psk

import (
	"context"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// List returns a page of the PSKs p may see, ordered by ID, without
// passphrases: its group's, or for super principals every group's (or
// f.GroupID's when set). Total counts every match.
// Errors: unauthorized, forbidden (p lacks psks:read), invalid (paging).
func (s *Service) List(ctx context.Context, p *authz.Principal, f Filter) (*Page, error) {
	if err := authz.Allow(p, actPSKRead, authz.Any); err != nil {
		return nil, err
	}
	if !p.IsSuper() {
		f.GroupID = p.GroupID
	}
	if err := paging(&f.Limit, f.Offset); err != nil {
		return nil, err
	}
	f.Search = strings.TrimSpace(f.Search)
	f.Prefix = strings.ToLower(strings.TrimSpace(f.Prefix))
	f.Now = s.now()
	tx := s.store.Read()
	psks, err := tx.ListPSKs(ctx, f)
	if err != nil {
		return nil, err
	}
	total, err := tx.CountPSKs(ctx, f)
	if err != nil {
		return nil, err
	}
	return &Page{PSKs: psks, Total: total, At: f.Now}, nil
}

// paging applies the default limit and checks the bounds.
func paging(limit *int, offset int) error {
	if *limit == 0 {
		*limit = DefaultLimit
	}
	if *limit < 1 || *limit > MaxLimit {
		return invalid("limit", "limit must be between 1 and 1000")
	}
	if offset < 0 {
		return invalid("offset", "offset must not be negative")
	}
	return nil
}

// Get returns one PSK with its passphrase. A PSK of another group is
// PSK_NOT_FOUND. Errors: not_found, forbidden (p lacks psks:read).
func (s *Service) Get(ctx context.Context, p *authz.Principal, id int64) (*PSK, error) {
	r, err := s.store.Read().PSKRow(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, PSKNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if err := allowPSK(p, actPSKRead, &r.PSK); err != nil {
		return nil, err
	}
	return s.open(r)
}

// Create creates a PSK in p's group (super principals: in groupID when not
// 0) and returns it with its passphrase. psk_id and passphrase are generated
// when not given.
// Errors: invalid (a field, naming it in details "field"), conflict
// PSK_ID_EXISTS, forbidden (p lacks psks:write).
func (s *Service) Create(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, in NewPSK) (*PSK, error) {
	out, err := s.create(ctx, p, src, groupID, []NewPSK{in}, func(_ int, err error) error { return err })
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// Update applies patch to a PSK and returns it with its passphrase.
// Changing the expiry re-arms the expiry sweep for the PSK. A patch that
// changes nothing writes nothing.
// Errors: not_found PSK_NOT_FOUND, invalid, conflict PSK_ID_EXISTS,
// forbidden (p lacks psks:write, or a USER changing another user's PSK).
func (s *Service) Update(ctx context.Context, p *authz.Principal, src audit.Source, id int64, patch Patch) (*PSK, error) {
	var out *PSK
	changed := map[string]any{}
	err := s.store.InTx(ctx, func(tx Tx) error {
		r, err := tx.PSKRow(ctx, id)
		if fault.Is(err, fault.NotFound) {
			return PSKNotFound(id)
		}
		if err != nil {
			return err
		}
		if err := allowPSK(p, actPSKWrite, &r.PSK); err != nil {
			return err
		}
		if out, err = s.open(r); err != nil {
			return err
		}
		if err := s.apply(ctx, tx, r, out, patch, changed); err != nil {
			return err
		}
		if len(changed) == 0 {
			return nil
		}
		r.UpdatedAt = s.stamp()
		if err := tx.UpdatePSK(ctx, r); err != nil {
			if fault.Is(err, fault.Conflict) {
				return pskIDExists(r.PSKID)
			}
			return err
		}
		passphrase := out.Passphrase
		*out = r.PSK
		out.Passphrase = passphrase
		return audit.Record(ctx, tx, src, r.GroupID, "psk.update", pskTarget(r.ID), changed)
	})
	if err != nil {
		return nil, err
	}
	if len(changed) > 0 {
		s.publishPSK(ctx, ActionUpdated, out)
	}
	return out, nil
}

// apply validates patch and applies it to r (and the clear passphrase to
// cur), recording what changed (never the passphrase itself).
func (s *Service) apply(ctx context.Context, tx Tx, r *Row, cur *PSK, patch Patch, changed map[string]any) error {
	if patch.PSKID != nil && *patch.PSKID != r.PSKID {
		name := strings.TrimSpace(*patch.PSKID)
		if err := ValidatePSKID(name); err != nil {
			return err
		}
		taken, err := tx.TakenPSKIDs(ctx, r.GroupID, []string{name})
		if err != nil {
			return err
		}
		if taken[name] {
			return pskIDExists(name)
		}
		r.PSKID, changed["psk_id"] = name, name
	}
	if patch.Passphrase != nil && *patch.Passphrase != cur.Passphrase {
		if err := ValidatePassphrase(*patch.Passphrase); err != nil {
			return err
		}
		if err := s.reseal(r, *patch.Passphrase); err != nil {
			return err
		}
		cur.Passphrase, changed["psk_value"] = *patch.Passphrase, "changed"
	}
	if patch.Description != nil && *patch.Description != r.Description {
		if err := validateDescription(*patch.Description); err != nil {
			return err
		}
		r.Description, changed["description"] = *patch.Description, *patch.Description
	}
	switch {
	case patch.ClearVLAN && r.VLANID != nil:
		r.VLANID, changed["vlan_id"] = nil, nil
	case patch.VLANID != nil && !patch.ClearVLAN:
		if err := ValidateVLAN("vlan_id", *patch.VLANID); err != nil {
			return err
		}
		if r.VLANID == nil || *r.VLANID != *patch.VLANID {
			v := *patch.VLANID
			r.VLANID, changed["vlan_id"] = &v, v
		}
	}
	if patch.Expires != nil || patch.ExpiresInHours != nil {
		var expires *time.Time
		if patch.Expires == nil || *patch.Expires != "" || patch.ExpiresInHours != nil {
			var text string
			if patch.Expires != nil {
				text = *patch.Expires
			}
			var err error
			if expires, err = resolveExpiry(text, patch.ExpiresInHours, s.now()); err != nil {
				return err
			}
		}
		if !sameTime(expires, r.Expires) {
			r.Expires, r.ExpiryNotice, changed["expires"] = expires, nil, expires
		}
	}
	if patch.Enabled != nil && *patch.Enabled != r.Enabled {
		r.Enabled, changed["enabled"] = *patch.Enabled, *patch.Enabled
	}
	return nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// Delete removes a PSK and the endpoints bound to it.
// Errors: not_found PSK_NOT_FOUND, forbidden (p lacks psks:delete, or a USER
// deleting another user's PSK).
func (s *Service) Delete(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error {
	var (
		r         *Row
		endpoints []*Endpoint
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		r, err = tx.PSKRow(ctx, id)
		if fault.Is(err, fault.NotFound) {
			return PSKNotFound(id)
		}
		if err != nil {
			return err
		}
		if err := allowPSK(p, actPSKDelete, &r.PSK); err != nil {
			return err
		}
		if endpoints, err = tx.DeleteEndpointsOfPSK(ctx, id); err != nil {
			return err
		}
		for _, e := range endpoints {
			if err := audit.Record(ctx, tx, src, e.GroupID, "endpoint.delete", endpointTarget(e.ID),
				map[string]any{"mac_address": e.MAC, "psk": e.PSKID, "reason": "PSK deleted"}); err != nil {
				return err
			}
		}
		if err := tx.DeletePSK(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, r.GroupID, "psk.delete", pskTarget(id), map[string]any{"psk_id": r.PSKID})
	})
	if err != nil {
		return err
	}
	for _, e := range endpoints {
		s.publishEndpoint(ctx, ActionDeleted, e)
	}
	s.publishPSK(ctx, ActionDeleted, &r.PSK)
	return nil
}

// createAudit is what psk.create records: never the passphrase.
func createAudit(p *PSK) map[string]any {
	return map[string]any{"psk_id": p.PSKID, "description": p.Description, "vlan_id": p.VLANID,
		"enabled": p.Enabled, "expires": p.Expires}
}
