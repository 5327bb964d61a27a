package mesh

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
)

// KeyFields are what a caller asks for when creating an access key; zero
// values mean the defaults (a random name and value, one use, no expiry).
type KeyFields struct {
	Name      string
	Value     string
	Uses      int
	ExpiresAt *time.Time
}

// Limits on access keys.
const (
	MinKeyValueLen  = 8
	MaxKeyValueLen  = 64
	GeneratedKeyLen = 16
	MaxKeyUses      = 1_000_000
)

const alphanumeric = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomString returns n characters of alphabet, uniformly.
func randomString(n int, alphabet string) string {
	out := make([]byte, n)
	buf := make([]byte, n*2)
	limit := byte(256 - 256%len(alphabet))
	for i := 0; i < n; {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails on supported platforms
		for _, b := range buf {
			if b < limit && i < n {
				out[i] = alphabet[int(b)%len(alphabet)]
				i++
			}
		}
	}
	return string(out)
}

// keyHash is the stored lookup form of an access key value.
func keyHash(value string) [32]byte { return sha256.Sum256([]byte(value)) }

// keySealContext binds a sealed key value to its hash.
func keySealContext(hash [32]byte) string { return "mesh-access-key:" + hex.EncodeToString(hash[:]) }

func validKeyName(s string) bool {
	if s == "" || len(s) > MaxKeyNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func isAlphanumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(alphanumeric, rune(s[i])) {
			return false
		}
	}
	return true
}

// ListKeys returns the network's access keys with their values. Errors:
// not_found, forbidden (keys are secrets: networks:write is required).
func (s *Service) ListKeys(ctx context.Context, p *authz.Principal, netid string) ([]*AccessKey, error) {
	st, err := s.writableNetwork(p, netid)
	if err != nil {
		return nil, err
	}
	rows, err := s.store.Read().ListAccessKeys(ctx, st.id)
	if err != nil {
		return nil, err
	}
	out := make([]*AccessKey, 0, len(rows))
	for _, r := range rows {
		v, err := s.sealer.Open(r.Sealed, keySealContext(r.Hash))
		if err != nil {
			return nil, fmt.Errorf("opening access key %s of network %s: %w", r.Name, netid, err)
		}
		k := r.AccessKey
		k.Value = string(v)
		out = append(out, &k)
	}
	return out, nil
}

// CreateKey creates an access key. Errors: as ListKeys, plus invalid (a
// field) and conflict (the name, or the value, is taken in the network).
func (s *Service) CreateKey(ctx context.Context, p *authz.Principal, src audit.Source, netid string, f KeyFields) (*AccessKey, error) {
	st, err := s.writableNetwork(p, netid)
	if err != nil {
		return nil, err
	}
	now := s.stamp()
	k := &AccessKey{NetworkID: st.id, Name: strings.TrimSpace(f.Name), Value: f.Value, Uses: f.Uses, CreatedBy: src.Actor, CreatedAt: now, OwnerID: p.UserID}
	if k.Name == "" {
		k.Name = "key-" + randomString(8, alphanumeric[:36])
	}
	if !validKeyName(k.Name) {
		return nil, invalidField("name", "name must be 1 to 64 letters, digits, '-', '_' or '.'")
	}
	switch {
	case k.Value == "":
		k.Value = randomString(GeneratedKeyLen, alphanumeric)
	case len(k.Value) < MinKeyValueLen || len(k.Value) > MaxKeyValueLen || !isAlphanumeric(k.Value):
		return nil, invalidField("value", "value must be 8 to 64 letters and digits")
	}
	switch {
	case k.Uses == 0:
		k.Uses = DefaultKeyUses
	case k.Uses < 0 || k.Uses > MaxKeyUses:
		return nil, invalidField("uses", "uses must be between 1 and 1000000")
	}
	if f.ExpiresAt != nil {
		t := f.ExpiresAt.UTC().Truncate(time.Microsecond)
		if !t.After(now) {
			return nil, invalidField("expiration", "expiration must be in the future")
		}
		k.ExpiresAt = &t
	}
	hash := keyHash(k.Value)
	sealed, err := s.sealer.Seal([]byte(k.Value), keySealContext(hash))
	if err != nil {
		return nil, err
	}
	row := &SealedAccessKey{AccessKey: *k, Hash: hash, Sealed: sealed}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateAccessKey(ctx, row); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, st.gid, "network.key.create", "network:"+netid, map[string]any{
			"name": k.Name, "uses": k.Uses, "expiration": k.ExpiresAt,
		})
	})
	if err != nil {
		return nil, err
	}
	k.ID = row.ID
	return k, nil
}

// DeleteKey deletes an access key by name. Errors: as ListKeys; not_found
// for a missing key.
func (s *Service) DeleteKey(ctx context.Context, p *authz.Principal, src audit.Source, netid, name string) error {
	st, err := s.writableNetwork(p, netid)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.DeleteAccessKey(ctx, st.id, name); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, st.gid, "network.key.delete", "network:"+netid, map[string]any{"name": name})
	})
}
