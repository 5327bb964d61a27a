package sso

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/fault"
)

// The provider's signing keys rotate: the newest key signs for
// KeyRotation, then a new one is made; an old key stays published until
// every token it signed has expired (KeyRotation + AccessTTL after it was
// made). Keys are ECDSA P-256 (ES256), sealed at rest, made once across
// replicas under a lock.

const keyContext = "oauth2-signing-key"

// Key is a signing key ready for use.
type Key struct {
	ID        string
	Private   *ecdsa.PrivateKey
	CreatedAt time.Time
}

type keyCache struct {
	keys    []Key // newest first
	checked time.Time
}

// keyRecheck bounds how long a replica keeps signing with a key after
// another replica rotated (both keys are published meanwhile).
const keyRecheck = time.Minute

// SigningKeys returns the key to sign with and every key to publish
// (newest first), rotating when the newest is older than KeyRotation.
func (s *Service) SigningKeys(ctx context.Context) (Key, []Key, error) {
	now := s.now()
	s.signing.Lock()
	defer s.signing.Unlock()
	c := &s.keyCache
	if len(c.keys) > 0 && now.Sub(c.checked) < keyRecheck && now.Sub(c.keys[0].CreatedAt) < s.cfg.KeyRotation {
		return c.keys[0], c.keys, nil
	}
	keys, err := s.loadKeys(ctx, now)
	if err != nil {
		return Key{}, nil, err
	}
	if len(keys) == 0 || now.Sub(keys[0].CreatedAt) >= s.cfg.KeyRotation {
		if keys, err = s.rotate(ctx, now); err != nil {
			return Key{}, nil, err
		}
	}
	c.keys, c.checked = keys, now
	return keys[0], keys, nil
}

// retention is how long a key stays published after it was made: it
// signs for KeyRotation (plus up to keyRecheck on a replica that has not
// seen the rotation yet), and its last tokens live AccessTTL.
func (s *Service) retention() time.Duration {
	return s.cfg.KeyRotation + keyRecheck + s.cfg.AccessTTL
}

// loadKeys reads the keys still published.
func (s *Service) loadKeys(ctx context.Context, now time.Time) ([]Key, error) {
	rows, err := s.store.Read().ListSigningKeys(ctx, now.Add(-s.retention()))
	if err != nil {
		return nil, err
	}
	return s.openKeys(rows)
}

func (s *Service) openKeys(rows []*SigningKey) ([]Key, error) {
	out := make([]Key, 0, len(rows))
	for _, r := range rows {
		der, err := s.keys.Open(r.PrivateKey, keyContext)
		if err != nil {
			return nil, fmt.Errorf("opening signing key %s: %w", r.ID, err)
		}
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("parsing signing key %s: %w", r.ID, err)
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("signing key %s is not ECDSA", r.ID)
		}
		out = append(out, Key{ID: r.ID, Private: ek, CreatedAt: r.CreatedAt})
	}
	return out, nil
}

// rotate makes a new key unless another replica just did, and returns the
// published keys.
func (s *Service) rotate(ctx context.Context, now time.Time) ([]Key, error) {
	var rows []*SigningKey
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.LockScope(ctx, lockKeys); err != nil {
			return err
		}
		var err error
		if rows, err = tx.ListSigningKeys(ctx, now.Add(-s.retention())); err != nil {
			return err
		}
		if len(rows) > 0 && now.Sub(rows[0].CreatedAt) < s.cfg.KeyRotation {
			return nil
		}
		pk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		der, err := x509.MarshalPKCS8PrivateKey(pk)
		if err != nil {
			return err
		}
		sealed, err := s.keys.Seal(der, keyContext)
		if err != nil {
			return err
		}
		k := &SigningKey{ID: randomToken(12), PrivateKey: sealed, CreatedAt: now.UTC().Truncate(time.Microsecond)}
		if err := tx.CreateSigningKey(ctx, k); err != nil {
			return err
		}
		rows = append([]*SigningKey{k}, rows...)
		return audit.Record(ctx, tx, audit.Source{Actor: "system"}, 0, "oauth2.key_rotate", "oauth_key:"+k.ID, nil)
	})
	if err != nil {
		return nil, fault.New(fault.Unavailable, "signing keys cannot be read right now").Wrap(err)
	}
	return s.openKeys(rows)
}
