package mesh

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"runtime"
	"strings"

	"netkeep/internal/audit"
	"netkeep/internal/identity"
)

// Node passwords are machine secrets: the agent generates one per node
// (crypto/rand.Text, 130 bits) and a person never types it. Hashing such a
// secret with a memory-hard function buys nothing: argon2id slows the guessing
// of human passwords, while a 100-bit random string cannot be guessed at any
// hash speed. What it costs is real, though: ~40 ms of CPU and 19 MiB per join
// at identity's production cost, which capped joins at ~50/s on two cores and
// let a burst of joins take hundreds of MiB.
//
// So a password that looks like a machine secret (MachinePasswordLen
// characters or more, MachinePasswordDistinct distinct ones or more) is
// stored as a keyed hash: HMAC-SHA256 under a key derived from the server's
// root secret (secret.Keys.NodePasswordKey), with a random per-node salt. A
// leaked database alone then reveals nothing that can be checked offline,
// and even with the root secret as well, the secret's entropy is what stops
// guessing. Checking one costs about a microsecond.
//
// A shorter password (a person's choice, as Netmaker's --password allows) is
// still accepted and stored with argon2id, as before; at most
// runtime.GOMAXPROCS(0) argon2id computations run at once, so a burst of such
// joins queues instead of multiplying memory (each takes the cost's
// MemoryKiB). A node whose stored hash is argon2id (older nodes) gets a keyed
// hash on its next successful authentication, when its password qualifies.

// MachinePasswordLen and MachinePasswordDistinct are what a node password
// needs (length, distinct characters) to be stored as a keyed hash.
const (
	MachinePasswordLen      = 20
	MachinePasswordDistinct = 10
)

// keyedPrefix starts a keyed hash: nkhmac1$<salt>$<mac>, both unpadded
// base64 (standard alphabet), HMAC-SHA256(key, salt || password).
const keyedPrefix = "nkhmac1$"

// isMachineSecret reports whether pw qualifies for a keyed hash.
func isMachineSecret(pw string) bool {
	if len(pw) < MachinePasswordLen {
		return false
	}
	var seen [256]bool
	distinct := 0
	for i := 0; i < len(pw); i++ {
		if !seen[pw[i]] {
			seen[pw[i]] = true
			distinct++
		}
	}
	return distinct >= MachinePasswordDistinct
}

// nodePasswords hashes and checks node passwords (see above).
type nodePasswords struct {
	key    []byte // nil: every password is hashed with argon2id
	params identity.PasswordParams
	slots  chan struct{} // bounds concurrent argon2id computations
}

func newNodePasswords(params identity.PasswordParams, key []byte) *nodePasswords {
	return &nodePasswords{key: key, params: params, slots: make(chan struct{}, max(runtime.GOMAXPROCS(0), 1))}
}

// hash returns the stored form of pw.
func (np *nodePasswords) hash(ctx context.Context, pw string) (string, error) {
	if np.key != nil && isMachineSecret(pw) {
		salt := make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return "", err
		}
		return keyedPrefix + b64.EncodeToString(salt) + "$" + b64.EncodeToString(np.mac(salt, pw)), nil
	}
	if err := np.acquire(ctx); err != nil {
		return "", err
	}
	defer np.release()
	return identity.HashPassword(pw, np.params)
}

// check reports whether pw matches the stored hash, and whether the hash
// should be replaced by a keyed one (it is argon2id and pw qualifies).
func (np *nodePasswords) check(ctx context.Context, stored, pw string) (ok, upgrade bool, err error) {
	if rest, keyed := strings.CutPrefix(stored, keyedPrefix); keyed {
		salt64, mac64, found := strings.Cut(rest, "$")
		salt, err1 := b64.DecodeString(salt64)
		want, err2 := b64.DecodeString(mac64)
		if !found || err1 != nil || err2 != nil || np.key == nil {
			return false, false, errBadStoredHash
		}
		return hmac.Equal(np.mac(salt, pw), want), false, nil
	}
	if err := np.acquire(ctx); err != nil {
		return false, false, err
	}
	defer np.release()
	ok, err = identity.CheckPassword(stored, pw)
	return ok, ok && np.key != nil && isMachineSecret(pw), err
}

func (np *nodePasswords) mac(salt []byte, pw string) []byte {
	h := hmac.New(sha256.New, np.key)
	h.Write(salt)
	h.Write([]byte(pw))
	return h.Sum(nil)
}

func (np *nodePasswords) acquire(ctx context.Context) error {
	select {
	case np.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (np *nodePasswords) release() { <-np.slots }

var b64 = base64.RawStdEncoding

var errBadStoredHash = errors.New("mesh: malformed stored node password hash")

// rehashPassword replaces n's argon2id hash by a keyed one after the password
// was checked. A failure is logged: the old hash still works.
func (s *Service) rehashPassword(ctx context.Context, n *Node, pw string) {
	h, err := s.pw.hash(ctx, pw)
	if err == nil {
		err = s.store.InTx(ctx, func(tx Tx) error {
			if err := tx.SetNodePassword(ctx, n.ID, h); err != nil {
				return err
			}
			return audit.Record(ctx, tx, audit.Source{Actor: nodeSubject(n.Network, n.ID)}, n.GroupID,
				"node.password_rehash", nodeTarget(n), map[string]any{"network": n.Network, "macaddress": n.MAC, "hash": "keyed"})
		})
	}
	if err != nil {
		s.log.Warn("replacing a node's argon2id password hash by a keyed hash", "node", n.ID, "error", err)
	}
}
