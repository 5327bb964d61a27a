package device

import (
	"context"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// List returns the live devices p may see (its group's; every group's for
// a super principal), and how many there are in all.
func (s *Service) List(ctx context.Context, p *authz.Principal, page Page) ([]*Device, int, error) {
	if err := authz.Allow(p, "devices:read", authz.Any); err != nil {
		return nil, 0, err
	}
	return s.store.Read().ListDevices(ctx, p.GroupScope(), page)
}

// Get returns a live device p may see. Errors: not_found (also for another
// group's device, and for a revoked one), forbidden.
func (s *Service) Get(ctx context.Context, p *authz.Principal, id string) (*Device, error) {
	d, err := s.visible(ctx, s.store.Read(), p, id, "devices:read")
	return d, err
}

// visible reads a live device and checks that p may perform a on it.
func (s *Service) visible(ctx context.Context, tx Tx, p *authz.Principal, id string, a authz.Action) (*Device, error) {
	if p == nil {
		return nil, authz.Allow(p, a, authz.Any)
	}
	d, err := tx.DeviceByID(ctx, id)
	if fault.Is(err, fault.NotFound) || (err == nil && d.RevokedAt != nil) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := authz.Allow(p, a, authz.Resource{GroupID: d.GroupID, OwnerID: d.UserID}); err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, errNotFound
		}
		return nil, err
	}
	return d, nil
}

// Update changes a device's metadata (its name). Errors: not_found,
// forbidden, invalid (deviceName).
func (s *Service) Update(ctx context.Context, p *authz.Principal, src audit.Source, id string, u Update) (*Device, error) {
	var d *Device
	if u.Name != nil {
		name := strings.TrimSpace(*u.Name)
		if err := validName(name, false); err != nil {
			return nil, err
		}
		u.Name = &name
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if d, err = s.visible(ctx, tx, p, id, "devices:write"); err != nil {
			return err
		}
		changes := map[string]any{}
		if u.Name != nil && *u.Name != d.Name {
			changes["name"] = *u.Name
			d.Name = *u.Name
		}
		if len(changes) == 0 {
			return nil
		}
		if err := tx.UpdateDevice(ctx, d); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, d.GroupID, "device.updated", d.ID, changes)
	})
	if err != nil {
		return nil, err
	}
	s.registry.Drop(d.ID)
	s.publish(ctx, "updated", d.GroupID, d.ID, nil)
	return d, nil
}

// Revoke ends a device's access: its tokens fail at once here and, as soon
// as the event arrives, on every replica; its stored cookies are deleted.
// It returns when the device was revoked. Errors: not_found, forbidden.
func (s *Service) Revoke(ctx context.Context, p *authz.Principal, src audit.Source, id string) (time.Time, error) {
	now := s.now()
	var d *Device
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if d, err = s.visible(ctx, tx, p, id, "devices:write"); err != nil {
			return err
		}
		if err := tx.RevokeDevice(ctx, id, now); err != nil {
			return err
		}
		if _, err := tx.DeleteCookies(ctx, id, ""); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, d.GroupID, "device.revoked", d.ID, map[string]any{"name": d.Name})
	})
	if err != nil {
		return time.Time{}, err
	}
	s.registry.Drop(id)
	s.publish(ctx, "revoked", d.GroupID, id, nil)
	return now, nil
}
