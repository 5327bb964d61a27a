package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Format is the shape of a key's secret, named by its prefix. Each product's
// clients expect their own; netkeep issues all four and accepts every one on
// every dialect's routes (one key model, one lookup by SHA-256).
type Format string

// The formats, as the seeds document them.
const (
	FormatNetKey   Format = "nk"      // "nk_" and 43 base62 characters (NetKey: "nk_" and an alphanumeric suffix)
	FormatGateKey  Format = "gk"      // "gk_" and 43 base62 characters (GateKey: "Bearer gk_...")
	FormatNetRecon Format = "nr_live" // "nr_live_" and 48 lowercase hex digits (NetRecon)
	FormatNekzus   Format = "nekzus"  // "nekzus_" and 64 lowercase hex digits (Nekzus)
)

// layout is how a format's secret is built.
type layout struct {
	format Format
	prefix string
	body   int  // characters after the prefix
	hex    bool // lowercase hex; otherwise base62
}

// layouts lists every format; formatOf tries them in order.
var layouts = [...]layout{
	{FormatNetKey, "nk_", 43, false},       // about 256 random bits
	{FormatGateKey, "gk_", 43, false},      // about 256 random bits
	{FormatNetRecon, "nr_live_", 48, true}, // 192 random bits
	{FormatNekzus, "nekzus_", 64, true},    // 256 random bits
}

const (
	// PrefixLen is how much of the secret Key.Prefix keeps ("nekzus_a1b").
	PrefixLen = 10
	// maxSecretLen is the longest secret of any format (Nekzus's).
	maxSecretLen = len("nekzus_") + 64
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// layoutOf returns f's layout; ok is false for an unknown format.
func layoutOf(f Format) (layout, bool) {
	for _, l := range layouts {
		if l.format == f {
			return l, true
		}
	}
	return layout{}, false
}

// newSecret returns a fresh secret of l's format. For base62, random bytes of
// 248 or more are rejected so each character is uniform (248 = 4 × 62): no
// modulo bias. Hex takes the bytes as they come.
func newSecret(l layout) string {
	out := make([]byte, 0, len(l.prefix)+l.body)
	out = append(out, l.prefix...)
	if l.hex {
		buf := make([]byte, l.body/2)
		_, _ = rand.Read(buf) // crypto/rand.Read never fails on supported platforms
		return string(hex.AppendEncode(out, buf))
	}
	var buf [64]byte
	for len(out) < cap(out) {
		_, _ = rand.Read(buf[:])
		for _, b := range buf {
			if b < 248 && len(out) < cap(out) {
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

// Hash is the stored digest of secret. It does not allocate for secrets no
// longer than the longest format's.
func Hash(secret string) [32]byte {
	if len(secret) <= maxSecretLen {
		var buf [maxSecretLen]byte
		n := copy(buf[:], secret)
		return sha256.Sum256(buf[:n])
	}
	return sha256.Sum256([]byte(secret))
}

// WellFormed reports whether s has the shape of a key of some format, so
// that garbage is rejected before any lookup and the authenticator can tell
// an API key from other bearer tokens (JWTs, the master key).
func WellFormed(s string) bool {
	_, ok := formatOf(s)
	return ok
}

// formatOf returns the format whose shape secret has.
func formatOf(secret string) (Format, bool) {
	for i := range layouts {
		l := &layouts[i]
		if len(secret) == len(l.prefix)+l.body && strings.HasPrefix(secret, l.prefix) && bodyOK(secret[len(l.prefix):], l.hex) {
			return l.format, true
		}
	}
	return "", false
}

// bodyOK reports whether every character of body is of the format's alphabet.
func bodyOK(body string, hex bool) bool {
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		case hex:
			return false
		case 'g' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		default:
			return false
		}
	}
	return true
}
