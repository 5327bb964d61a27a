package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// Secret format: "nk_" and 43 base62 characters, about 256 random bits.
const (
	secretPrefix = "nk_"
	secretRand   = 43
	SecretLen    = len(secretPrefix) + secretRand
	PrefixLen    = 10 // how much of the secret Key.Prefix keeps
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newSecret returns a fresh secret. Random bytes of 248 or more are rejected
// so each character is uniform over base62 (248 = 4 × 62): no modulo bias.
func newSecret() string {
	out := make([]byte, 0, SecretLen)
	out = append(out, secretPrefix...)
	var buf [64]byte
	for len(out) < SecretLen {
		_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails on supported platforms
		for _, b := range buf {
			if b < 248 && len(out) < SecretLen {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out)
}

// newID returns "key_" and 16 lowercase hex digits (64 random bits).
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "key_" + hex.EncodeToString(b[:])
}

// Hash is the stored digest of secret. It does not allocate for secrets of
// the expected length.
func Hash(secret string) [32]byte {
	if len(secret) == SecretLen {
		var buf [SecretLen]byte
		copy(buf[:], secret)
		return sha256.Sum256(buf[:])
	}
	return sha256.Sum256([]byte(secret))
}

// wellFormed reports whether secret has the shape of a key this package
// issues, so that garbage is rejected before any lookup.
func wellFormed(secret string) bool {
	if len(secret) != SecretLen || secret[:len(secretPrefix)] != secretPrefix {
		return false
	}
	for i := len(secretPrefix); i < len(secret); i++ {
		c := secret[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
