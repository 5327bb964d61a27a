package apikey

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/name"
)

// actionManage is the authz action that guards every key operation.
const actionManage authz.Action = "apikeys:manage"

// Create issues a key for p and returns it with its secret, which is never
// shown again. p must be allowed apikeys:manage (an API key must hold that
// scope) and must be a user or a user's key: the master key cannot own keys.
// The key gets p's group and user as creator, and may hold only scopes that
// p's role grants and, when p is itself a key, that p holds. An
// Administered key needs p to be an administrator and records p as
// ProvisionedBy.
//
// Errors: unauthorized (no principal), forbidden (not allowed, or a scope
// beyond the creator's rights, named in the message and details), invalid
// (name; a scope unknown in the vocabulary, or vocabularies mixed; format,
// expiry or rates out of range; master key).
func (s *Service) Create(ctx context.Context, p *authz.Principal, src audit.Source, in NewKey) (*Key, string, error) {
	if err := authz.Allow(p, actionManage, authz.Any); err != nil {
		return nil, "", err
	}
	if p.Kind == authz.KindMaster || p.UserID == 0 {
		return nil, "", fault.New(fault.Invalid, "API keys must be created by a user")
	}
	if in.Administered {
		if err := authz.Allow(p, authz.Administer, authz.Any); err != nil {
			return nil, "", err
		}
	}
	k, err := s.validate(p, in)
	if err != nil {
		return nil, "", err
	}
	var extra map[string]any
	if in.Administered {
		k.ProvisionedBy, extra = p.UserID, map[string]any{"provisioned_by": p.UserID}
	}
	return s.insert(ctx, src, k, extra)
}

// insert gives k its identity and secret, stores it with its audit entry
// (extra details added) and returns it with the secret.
func (s *Service) insert(ctx context.Context, src audit.Source, k *Key, extra map[string]any) (*Key, string, error) {
	l, _ := layoutOf(k.Format) // validate accepted only known formats
	secret := newSecret(l)
	k.ID, k.Prefix, k.Hash = newID(), secret[:PrefixLen], Hash(secret)
	details := map[string]any{
		"name": k.Name, "prefix": k.Prefix, "format": k.Format, "scopes": k.Scopes, "grants": k.Grants, "expiresAt": k.ExpiresAt,
		"ratePerHour": k.RatePerHour, "ratePerMinute": k.RatePerMinute,
	}
	for n, v := range extra {
		details[n] = v
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, k.GroupID, "apikey.create", k.target(), details)
	})
	if err != nil {
		return nil, "", err
	}
	s.publish(ctx, "created", k)
	return k, secret, nil
}

// validate checks in against the rules and p's rights and returns the key to
// store, without its identity and secret.
func (s *Service) validate(p *authz.Principal, in NewKey) (*Key, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	k := &Key{
		Name:          strings.TrimSpace(in.Name),
		GroupID:       p.GroupID,
		CreatedBy:     p.UserID,
		CreatedByName: p.Username,
		CreatedAt:     now,
	}
	switch {
	case k.Name == "":
		return nil, invalidField("name", "name is required")
	case utf8.RuneCountInString(k.Name) > MaxNameLen:
		return nil, invalidField("name", "name must be at most 100 characters")
	case len(in.Scopes) == 0:
		return nil, invalidField("scopes", "at least one scope is required")
	}
	if err := name.Check("name", k.Name); err != nil {
		return nil, err
	}
	vocab, err := vocabularyOf(in.Vocabulary, in.Scopes)
	if err != nil {
		return nil, err
	}
	if k.Format, err = formatFor(vocab, in.Format); err != nil {
		return nil, err
	}
	var grants authz.Scopes
	if k.Scopes, grants, err = grantable(p, vocab, in.Scopes); err != nil {
		return nil, err
	}
	k.Grants = grants.List()
	if in.ExpiresAt != nil {
		t := in.ExpiresAt.UTC().Truncate(time.Microsecond)
		if !t.After(now) {
			return nil, invalidField("expiresAt", "expiry must be in the future")
		}
		k.ExpiresAt = &t
	}
	if k.RatePerHour, err = rate(in.RatePerHour, DefaultRatePerHour, MaxRatePerHour, "ratePerHour"); err != nil {
		return nil, err
	}
	if k.RatePerMinute, err = rate(in.RatePerMinute, DefaultRatePerMinute, MaxRatePerMinute, "ratePerMinute"); err != nil {
		return nil, err
	}
	return k, nil
}

// rate applies a rate limit's default (for 0) and range.
func rate(v, def, most int, field string) (int, error) {
	if v == 0 {
		return def, nil
	}
	if v < 1 || v > most {
		return 0, fault.Errorf(fault.Invalid, "%s must be between 1 and %d", field, most).
			WithDetails(map[string]any{"field": field})
	}
	return v, nil
}

func invalidField(field, msg string) error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": field})
}
