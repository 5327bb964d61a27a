// Package secret holds the server's root secret and what is derived from it:
// the JWT signing key and the AES-256-GCM key that seals secrets at rest (PSK
// passphrases, TOTP secrets, CA keys). The root comes from NETKEEP_SECRET_KEY
// or from <data-dir>/secret.key, created (mode 0600) on first start. Replicas
// sharing one database must share the root.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FileName is the root secret's file in the data directory.
const FileName = "secret.key"

// Keys are the keys derived from the root secret.
type Keys struct {
	jwt    []byte
	aead   cipher.AEAD
	nodePW []byte
}

// Load returns the keys from fromEnv when it is set, otherwise from the
// data directory's secret file, creating it if missing.
func Load(dataDir, fromEnv string) (*Keys, error) {
	if fromEnv != "" {
		return Derive([]byte(fromEnv))
	}
	path := filepath.Join(dataDir, FileName)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		root, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(root) < 32 {
			return nil, fmt.Errorf("%s is malformed (expected base64 of at least 32 bytes)", path)
		}
		return Derive(root)
	case errors.Is(err, os.ErrNotExist):
		root := make([]byte, 32)
		if _, err := rand.Read(root); err != nil {
			return nil, err
		}
		enc := base64.StdEncoding.EncodeToString(root) + "\n"
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, os.ErrExist) { // another process won the race
				return Load(dataDir, "")
			}
			return nil, fmt.Errorf("creating %s: %w", path, err)
		}
		if _, err := f.WriteString(enc); err != nil {
			f.Close()
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		return Derive(root)
	default:
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
}

// Derive builds the keys from root with HKDF-SHA256, one label per use.
func Derive(root []byte) (*Keys, error) {
	if len(root) < 32 {
		return nil, errors.New("root secret must be at least 32 bytes")
	}
	jwt, err := hkdf.Key(sha256.New, root, nil, "netkeep jwt v1", 32)
	if err != nil {
		return nil, err
	}
	enc, err := hkdf.Key(sha256.New, root, nil, "netkeep seal v1", 32)
	if err != nil {
		return nil, err
	}
	nodePW, err := hkdf.Key(sha256.New, root, nil, "netkeep mesh node password v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keys{jwt: jwt, aead: aead, nodePW: nodePW}, nil
}

// JWTKey is the HMAC key for access tokens.
func (k *Keys) JWTKey() []byte { return k.jwt }

// NodePasswordKey is the HMAC key of mesh node passwords' keyed hashes.
func (k *Keys) NodePasswordKey() []byte { return k.nodePW }

// Seal encrypts plaintext with AES-256-GCM; context binds the ciphertext to
// its use (e.g. "psk:42") so it cannot be moved to another row.
// The result is nonce || ciphertext.
func (k *Keys) Seal(plaintext []byte, context string) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, plaintext, []byte(context)), nil
}

// Open decrypts what Seal produced with the same context.
func (k *Keys) Open(sealed []byte, context string) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n+k.aead.Overhead() {
		return nil, errors.New("sealed value too short")
	}
	pt, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(context))
	if err != nil {
		return nil, errors.New("sealed value does not open under this server secret")
	}
	return pt, nil
}
