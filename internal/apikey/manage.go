package apikey

import (
	"context"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

var errKeyNotFound = fault.New(fault.NotFound, "API key not found")

// List returns the keys p may see, newest first: every key for super
// principals, the group's keys for a GROUP_ADMIN, and only its own for a USER.
// Errors: unauthorized, forbidden (p lacks apikeys:manage).
func (s *Service) List(ctx context.Context, p *authz.Principal) ([]*Key, error) {
	if err := authz.Allow(p, actionManage, authz.Any); err != nil {
		return nil, err
	}
	f := Filter{GroupID: p.GroupScope()}
	if !p.IsSuper() && p.Role == authz.User {
		f.CreatedBy = p.UserID
	}
	keys, err := s.store.Read().ListAPIKeys(ctx, f)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		s.overlayLastUsed(k)
	}
	return keys, nil
}

// Get returns one key. A key p may not see (another group's; another user's,
// for a USER) is not_found, as in List.
func (s *Service) Get(ctx context.Context, p *authz.Principal, id string) (*Key, error) {
	if err := authz.Allow(p, actionManage, authz.Any); err != nil {
		return nil, err
	}
	k, err := s.store.Read().APIKeyByID(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, errKeyNotFound
	}
	if err != nil {
		return nil, err
	}
	if !p.IsSuper() && p.Role == authz.User && k.CreatedBy != p.UserID {
		return nil, errKeyNotFound
	}
	if err := allow(p, k); err != nil {
		return nil, err
	}
	s.overlayLastUsed(k)
	return k, nil
}

// Revoke marks the key revoked, so it stops authenticating on every replica,
// and returns it. Revoking a revoked key changes nothing and succeeds.
// Errors: not_found (missing or another group's), forbidden (a USER revoking
// another user's key, or p lacks apikeys:manage).
func (s *Service) Revoke(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*Key, error) {
	var k *Key
	changed := false
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if k, err = s.loadForChange(ctx, tx, p, id); err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return nil
		}
		at := s.now().UTC().Truncate(time.Microsecond)
		if err := tx.RevokeAPIKey(ctx, id, at); err != nil {
			return err
		}
		k.RevokedAt, changed = &at, true
		return audit.Record(ctx, tx, src, k.GroupID, "apikey.revoke", k.target(), map[string]any{"name": k.Name})
	})
	if err != nil {
		return nil, err
	}
	s.cache.dropID(id)
	if changed {
		s.publish(ctx, "revoked", k)
	}
	s.overlayLastUsed(k)
	return k, nil
}

// Delete removes the key permanently. Errors as for Revoke.
func (s *Service) Delete(ctx context.Context, p *authz.Principal, src audit.Source, id string) error {
	var k *Key
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if k, err = s.loadForChange(ctx, tx, p, id); err != nil {
			return err
		}
		if err := tx.DeleteAPIKey(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, k.GroupID, "apikey.delete", k.target(), map[string]any{"name": k.Name})
	})
	if err != nil {
		return err
	}
	s.cache.dropID(id)
	s.publish(ctx, "deleted", k)
	return nil
}

// loadForChange reads the key inside tx and checks that p may change it.
func (s *Service) loadForChange(ctx context.Context, tx Tx, p *authz.Principal, id string) (*Key, error) {
	if err := authz.Allow(p, actionManage, authz.Any); err != nil {
		return nil, err
	}
	k, err := tx.APIKeyByID(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, errKeyNotFound
	}
	if err != nil {
		return nil, err
	}
	return k, allow(p, k)
}

// allow is authz.Allow on k as a resource, with not_found naming the key.
// A USER sees only its own keys (List and Get), so another user's key is
// not_found for it here too, never forbidden: the answer must not reveal
// that the key exists.
func allow(p *authz.Principal, k *Key) error {
	if p.Role == authz.User && !p.IsSuper() && k.CreatedBy != p.UserID {
		return errKeyNotFound
	}
	err := authz.Allow(p, actionManage, authz.Resource{GroupID: k.GroupID, OwnerID: k.CreatedBy})
	if fault.Is(err, fault.NotFound) {
		return errKeyNotFound
	}
	return err
}
