package apikey

import (
	"context"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// Keys an administrator holds on behalf of another user of its group
// (GateKey's per-user keys): the key is that user's, acts with that user's
// role and stops when the user is deactivated, deleted or moved, exactly
// like a key the user created.

var (
	errUserNotFound = fault.New(fault.NotFound, "user not found")
)

// owner checks that p administers userID's group and returns the user as
// the principal a key of theirs acts for. Another group's user and a
// missing user are not_found alike; an inactive user is invalid when
// active is asked (a new key), not for reading or revoking its keys.
func (s *Service) owner(ctx context.Context, p *authz.Principal, userID int64, active bool) (*authz.Principal, error) {
	if err := authz.Allow(p, actionManage, authz.Any); err != nil {
		return nil, err
	}
	if err := authz.Allow(p, authz.Administer, authz.Any); err != nil {
		return nil, err
	}
	role, groupID, username, isActive, err := s.users.UserState(ctx, userID)
	switch {
	case fault.Is(err, fault.NotFound):
		return nil, errUserNotFound
	case err != nil:
		return nil, err
	case !p.IsSuper() && groupID != p.GroupID:
		return nil, errUserNotFound
	case active && !isActive:
		return nil, fault.New(fault.Invalid, "the user is not active")
	}
	return &authz.Principal{Kind: authz.KindUser, UserID: userID, Username: username, Role: role, GroupID: groupID}, nil
}

// CreateFor issues a key owned by the user userID, on p's authority, and
// returns it with its secret (shown once). Its scopes must be within both
// the user's role and p's own rights. Audited as apikey.create with the
// administrator as actor and "provisioned_for". Errors as Create, plus
// not_found (no such user in p's group), forbidden (p is no
// administrator), invalid (the user is inactive).
func (s *Service) CreateFor(ctx context.Context, p *authz.Principal, src audit.Source, userID int64, in NewKey) (*Key, string, error) {
	u, err := s.owner(ctx, p, userID, true)
	if err != nil {
		return nil, "", err
	}
	if p.Kind == authz.KindMaster || p.UserID == 0 {
		return nil, "", fault.New(fault.Invalid, "API keys must be created by a user")
	}
	vocab, err := vocabularyOf(in.Vocabulary, in.Scopes)
	if err != nil {
		return nil, "", err
	}
	if _, _, err := grantable(p, vocab, in.Scopes); err != nil {
		return nil, "", err // beyond the administrator's own rights
	}
	k, err := s.validate(u, in)
	if err != nil {
		return nil, "", err
	}
	k.ProvisionedBy = p.UserID
	return s.insert(ctx, src, k, map[string]any{"provisioned_by": p.UserID})
}

// ListFor returns the keys of user userID, newest first, for an
// administrator of the user's group. Errors as owner.
func (s *Service) ListFor(ctx context.Context, p *authz.Principal, userID int64) ([]*Key, error) {
	u, err := s.owner(ctx, p, userID, false)
	if err != nil {
		return nil, err
	}
	keys, err := s.store.Read().ListAPIKeys(ctx, Filter{GroupID: u.GroupID, CreatedBy: userID})
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		s.overlayLastUsed(k)
	}
	return keys, nil
}

// RevokeFor revokes every unrevoked key of user userID in one transaction,
// one audit entry per key, and returns how many it revoked. Errors as
// ListFor.
func (s *Service) RevokeFor(ctx context.Context, p *authz.Principal, src audit.Source, userID int64) (int, error) {
	u, err := s.owner(ctx, p, userID, false)
	if err != nil {
		return 0, err
	}
	var revoked []*Key
	err = s.store.InTx(ctx, func(tx Tx) error {
		revoked = nil
		keys, err := tx.ListAPIKeys(ctx, Filter{GroupID: u.GroupID, CreatedBy: userID})
		if err != nil {
			return err
		}
		at := s.now().UTC().Truncate(time.Microsecond)
		for _, k := range keys {
			if k.RevokedAt != nil {
				continue
			}
			if err := tx.RevokeAPIKey(ctx, k.ID, at); err != nil {
				return err
			}
			k.RevokedAt = &at
			if err := audit.Record(ctx, tx, src, k.GroupID, "apikey.revoke", k.target(),
				map[string]any{"name": k.Name, "owner": userID}); err != nil {
				return err
			}
			revoked = append(revoked, k)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range revoked {
		s.cache.dropID(k.ID)
		s.publish(ctx, "revoked", k)
	}
	return len(revoked), nil
}
