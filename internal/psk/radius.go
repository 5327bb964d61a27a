package psk

import (
	"context"
	"fmt"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/fault"
)

// This file is the read and write API of trusted in-process callers (the
// RADIUS server): no principal, no group scoping. Transports facing users
// never call it.

// Snapshot is every PSK (passphrases in clear) and every endpoint of every
// group, to build an in-memory index from.
type Snapshot struct {
	PSKs      []*PSK
	Endpoints []*Endpoint
}

// Snapshot loads every PSK, disabled and expired ones included (Usable
// decides at request time), and every endpoint. A subscriber builds its
// index from it after subscribing to the "psk" and "endpoint" topics, so no
// change between the two is lost.
func (s *Service) Snapshot(ctx context.Context) (*Snapshot, error) {
	snap := &Snapshot{}
	if err := s.EachPSK(ctx, 0, func(p *PSK) error { snap.PSKs = append(snap.PSKs, p); return nil }); err != nil {
		return nil, err
	}
	if err := s.EachEndpoint(ctx, 0, func(e *Endpoint) error { snap.Endpoints = append(snap.Endpoints, e); return nil }); err != nil {
		return nil, err
	}
	return snap, nil
}

// EachPSK streams the PSKs of groupID (0: every group) in ID order with
// their passphrases in clear, without holding them all in memory.
func (s *Service) EachPSK(ctx context.Context, groupID int64, fn func(*PSK) error) error {
	return s.store.Read().ScanPSKs(ctx, Scan{GroupID: groupID}, func(r *Row) error {
		p, err := s.open(r)
		if err != nil {
			return err
		}
		return fn(p)
	})
}

// EachEndpoint streams the endpoints of groupID (0: every group), ordered
// by PSK then ID.
func (s *Service) EachEndpoint(ctx context.Context, groupID int64, fn func(*Endpoint) error) error {
	return s.store.Read().ScanEndpoints(ctx, Scan{GroupID: groupID}, fn)
}

// EachKey streams every visible PSK of every group as a Key, passphrase in
// clear, in no particular order; *k is reused and valid only during the
// call (its strings stay valid).
func (s *Service) EachKey(ctx context.Context, fn func(k *Key) error) error {
	var k Key
	return s.store.Read().ScanKeys(ctx, func(sk *SealedKey) error {
		pt, err := s.keys.Open(sk.Sealed, "psk:"+string(sk.SealID))
		if err != nil {
			return fmt.Errorf("opening passphrase of PSK %d: %w", sk.ID, err)
		}
		k = Key{ID: sk.ID, GroupID: sk.GroupID, Passphrase: string(pt), VLANID: sk.VLANID,
			Enabled: sk.Enabled, Expires: sk.Expires}
		return fn(&k)
	})
}

// EachBinding streams every visible endpoint of every group as a Binding,
// in no particular order; *b and its MAC are reused and valid only during
// the call.
func (s *Service) EachBinding(ctx context.Context, fn func(b *Binding) error) error {
	return s.store.Read().ScanBindings(ctx, fn)
}

// LoadPSK returns a PSK with its passphrase in clear, whatever its group
// (for refreshing an index on an event). Errors: not_found PSK_NOT_FOUND.
func (s *Service) LoadPSK(ctx context.Context, id int64) (*PSK, error) {
	r, err := s.store.Read().PSKRow(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, PSKNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	return s.open(r)
}

// LoadEndpoint returns an endpoint whatever its group.
// Errors: not_found ENDPOINT_NOT_FOUND.
func (s *Service) LoadEndpoint(ctx context.Context, id int64) (*Endpoint, error) {
	e, err := s.store.Read().EndpointByID(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, EndpointNotFound(id)
	}
	return e, err
}

// radiusSource is the audit source of RADIUS auto-enrolment.
var radiusSource = audit.Source{Actor: "radius"}

// BindEndpoint binds mac (any form ParseMAC accepts) in groupID to the PSK
// pskID, as RADIUS does when a station proved it holds that PSK in a
// handshake (auto-enrolment): it creates the endpoint, or rebinds an
// existing one to pskID, audited with actor "radius" and announced by an
// "endpoint" created or updated event. A MAC already bound to pskID is
// returned unchanged, without audit or event.
// Errors: invalid (MAC), not_found PSK_NOT_FOUND (no such PSK in groupID).
func (s *Service) BindEndpoint(ctx context.Context, groupID int64, mac string, pskID int64) (*Endpoint, error) {
	mac, err := ParseMAC(mac)
	if err != nil {
		return nil, err
	}
	var (
		e      *Endpoint
		action string
	)
	bind := func(tx Tx) error {
		action = ""
		r, err := tx.PSKRow(ctx, pskID)
		if fault.Is(err, fault.NotFound) || err == nil && r.GroupID != groupID {
			return PSKNotFound(pskID)
		}
		if err != nil {
			return err
		}
		e, err = tx.EndpointByMAC(ctx, groupID, mac)
		now := s.stamp()
		switch {
		case fault.Is(err, fault.NotFound):
			e = &Endpoint{GroupID: groupID, MAC: mac, PSKID: pskID, Enabled: true, CreatedAt: now, UpdatedAt: now}
			if err := tx.InsertEndpoints(ctx, []*Endpoint{e}); err != nil {
				return err
			}
			action = ActionCreated
			return audit.Record(ctx, tx, radiusSource, groupID, "endpoint.create", endpointTarget(e.ID), endpointAudit(e))
		case err != nil:
			return err
		case e.PSKID == pskID:
			return nil
		}
		from := e.PSKID
		e.PSKID, e.UpdatedAt = pskID, now
		if err := tx.UpdateEndpoint(ctx, e); err != nil {
			return err
		}
		action = ActionUpdated
		return audit.Record(ctx, tx, radiusSource, groupID, "endpoint.update", endpointTarget(e.ID),
			map[string]any{"psk": pskID, "previous_psk": from, "reason": "auto-enrolment"})
	}
	err = s.store.InTx(ctx, bind)
	if fault.Is(err, fault.Conflict) {
		// Another replica enrolled the same station first: bind again over
		// what it stored.
		err = s.store.InTx(ctx, bind)
	}
	if err != nil {
		return nil, err
	}
	if action != "" {
		s.publishEndpoint(ctx, action, e)
	}
	return e, nil
}

// TouchEndpoints records when endpoints (by ID) were last seen, in one
// transaction; RADIUS accounting batches them. last_seen never moves
// backwards and deleted endpoints are ignored. It is telemetry, not a
// change: no audit entry, no event.
func (s *Service) TouchEndpoints(ctx context.Context, seen map[int64]time.Time) error {
	if len(seen) == 0 {
		return nil
	}
	err := s.store.InTx(ctx, func(tx Tx) error { return tx.TouchEndpoints(ctx, seen) })
	if err != nil {
		return fmt.Errorf("recording endpoints last seen: %w", err)
	}
	return nil
}
