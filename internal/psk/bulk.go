package psk

import (
	"context"
	"fmt"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// CreateBulk creates up to MaxBulk PSKs in one transaction: all of them, or
// none. An error about one item names it by its zero-based position, in the
// message ("item 3: ...") and in details "index".
// Errors: as for Create, and invalid for an empty or oversized request.
func (s *Service) CreateBulk(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, items []NewPSK) ([]*PSK, error) {
	switch {
	case len(items) == 0:
		return nil, invalid("psks", "at least one PSK is required")
	case len(items) > MaxBulk:
		return nil, invalid("psks", fmt.Sprintf("at most %d PSKs per request", MaxBulk))
	}
	return s.create(ctx, p, src, groupID, items, atIndex)
}

func atIndex(i int, err error) error { return at(err, "index", fmt.Sprintf("item %d: ", i), i) }

// create is Create and CreateBulk: locate places an item's error.
func (s *Service) create(ctx context.Context, p *authz.Principal, src audit.Source, groupID int64, items []NewPSK,
	locate func(int, error) error) ([]*PSK, error) {
	g, err := s.allowCreate(p, actPSKWrite, groupID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]*PSK, len(items))
	rows := make([]*Row, len(items))
	generated := make([]bool, len(items))
	for i, in := range items {
		if out[i], generated[i], err = s.prepare(in, g, creator(p), now); err != nil {
			return nil, locate(i, err)
		}
		if rows[i], err = s.seal(out[i]); err != nil {
			return nil, err
		}
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if i, err := claimNames(ctx, tx, g, rows, generated, map[string]bool{}); err != nil {
			if i >= 0 {
				return locate(i, err)
			}
			return err
		}
		if err := tx.InsertPSKs(ctx, rows); err != nil {
			return insertConflict(err)
		}
		entries := make([]*audit.Entry, len(rows))
		for i, r := range rows {
			out[i].ID, out[i].PSKID = r.ID, r.PSKID
			var err error
			if entries[i], err = audit.NewEntry(src, g, "psk.create", pskTarget(r.ID), createAudit(out[i])); err != nil {
				return err
			}
		}
		return audit.RecordAll(ctx, tx, entries)
	})
	if err != nil {
		return nil, err
	}
	for _, o := range out {
		s.publishPSK(ctx, ActionCreated, o)
	}
	return out, nil
}

// allowCreate resolves the group a new object goes into and checks that p
// may write there. Another group is invisible to p: invalid, not not_found.
func (s *Service) allowCreate(p *authz.Principal, a authz.Action, groupID int64) (int64, error) {
	g, err := targetGroup(p, groupID)
	if err != nil {
		return 0, err
	}
	if err := authz.Allow(p, a, authz.Resource{GroupID: g}); err != nil {
		if fault.Is(err, fault.NotFound) {
			return 0, invalid("group_id", "group does not exist")
		}
		return 0, err
	}
	return g, nil
}

// creator is the user a principal's new PSKs belong to (0: none).
func creator(p *authz.Principal) int64 {
	if p.ActsForUser() {
		return p.UserID
	}
	return 0
}

// insertConflict gives a uniqueness violation that slipped past the checks
// (a concurrent writer) its reason.
func insertConflict(err error) error {
	if fault.Is(err, fault.Conflict) {
		return fault.New(fault.Conflict, "a PSK with this psk_id was created concurrently; retry").WithReason(ReasonPSKIDExists)
	}
	return err
}

// endpointConflict is insertConflict for endpoints.
func endpointConflict(err error) error {
	if fault.Is(err, fault.Conflict) {
		return fault.New(fault.Conflict, "an endpoint with this MAC address was created concurrently; retry").WithReason(ReasonEndpointExists)
	}
	return err
}

// prepare validates in and returns the PSK to store (passphrase in clear)
// and whether its psk_id was generated.
func (s *Service) prepare(in NewPSK, groupID, createdBy int64, now time.Time) (*PSK, bool, error) {
	at := now.UTC().Truncate(time.Microsecond)
	p := &PSK{GroupID: groupID, Enabled: true, CreatedBy: createdBy, CreatedAt: at, UpdatedAt: at,
		Description: in.Description, Passphrase: in.Passphrase}
	name := strings.TrimSpace(in.PSKID)
	generated := name == ""
	if generated {
		name = newPSKName()
	} else if err := ValidatePSKID(name); err != nil {
		return nil, false, err
	}
	p.PSKID = name
	if p.Passphrase == "" {
		p.Passphrase = NewPassphrase(GeneratedLen)
	} else if err := ValidatePassphrase(p.Passphrase); err != nil {
		return nil, false, err
	}
	if err := validateDescription(p.Description); err != nil {
		return nil, false, err
	}
	if in.VLANID != nil {
		if err := ValidateVLAN("vlan_id", *in.VLANID); err != nil {
			return nil, false, err
		}
		v := *in.VLANID
		p.VLANID = &v
	}
	var err error
	if p.Expires, err = resolveExpiry(in.Expires, in.ExpiresInHours, now); err != nil {
		return nil, false, err
	}
	if in.Enabled != nil {
		p.Enabled = *in.Enabled
	}
	return p, generated, nil
}

// claimNames makes rows' psk_ids unique in the group. A given name that is
// taken (already stored, in seen, or earlier in rows) is a PSK_ID_EXISTS
// conflict returned with the row's index; a generated one is drawn again.
// Every claimed name is added to seen, so that an import's batches are
// checked against each other. Errors not about a row come with index -1.
func claimNames(ctx context.Context, tx Tx, groupID int64, rows []*Row, generated []bool, seen map[string]bool) (int, error) {
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r.PSKID
	}
	taken, err := tx.TakenPSKIDs(ctx, groupID, names)
	if err != nil {
		return -1, err
	}
	for i, r := range rows {
		if generated[i] {
			continue
		}
		if taken[r.PSKID] || seen[r.PSKID] {
			return i, pskIDExists(r.PSKID)
		}
		seen[r.PSKID] = true
	}
	var redo []int
	for i, r := range rows {
		if !generated[i] {
			continue
		}
		if taken[r.PSKID] || seen[r.PSKID] {
			redo = append(redo, i)
		}
		seen[r.PSKID] = true
	}
	for len(redo) > 0 {
		names = names[:0]
		for _, i := range redo {
			name := newPSKName()
			for seen[name] {
				name = newPSKName()
			}
			rows[i].PSKID, seen[name] = name, true
			names = append(names, name)
		}
		if taken, err = tx.TakenPSKIDs(ctx, groupID, names); err != nil {
			return -1, err
		}
		next := redo[:0]
		for _, i := range redo {
			if taken[rows[i].PSKID] {
				next = append(next, i)
			}
		}
		redo = next
	}
	return -1, nil
}

// claimMACs checks that no MAC of macs (one list per row) is stored in the
// group, in seen or repeated, and adds them to seen; the first offender's
// row index comes with the ENDPOINT_EXISTS conflict.
func claimMACs(ctx context.Context, tx Tx, groupID int64, macs [][]string, seen map[string]bool) (int, error) {
	var all []string
	for _, m := range macs {
		all = append(all, m...)
	}
	if len(all) == 0 {
		return -1, nil
	}
	taken, err := tx.TakenMACs(ctx, groupID, all)
	if err != nil {
		return -1, err
	}
	for i, m := range macs {
		for _, mac := range m {
			if taken[mac] || seen[mac] {
				return i, macExists(mac)
			}
			seen[mac] = true
		}
	}
	return -1, nil
}
