package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadCreatesFileOnce(t *testing.T) {
	dir := t.TempDir()
	k1, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	k2, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1.JWTKey(), k2.JWTKey()) {
		t.Fatal("second load derived other keys")
	}
	sealed, err := k1.Seal([]byte("passphrase"), "psk:1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("passphrase")) {
		t.Fatal("plaintext visible in sealed value")
	}
	pt, err := k2.Open(sealed, "psk:1")
	if err != nil || string(pt) != "passphrase" {
		t.Fatalf("open: %q %v", pt, err)
	}
	if _, err := k2.Open(sealed, "psk:2"); err == nil {
		t.Fatal("opened under another context")
	}
}

func TestEnvOverridesAndMalformedFile(t *testing.T) {
	dir := t.TempDir()
	a, err := Load(dir, "0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); !os.IsNotExist(err) {
		t.Fatal("secret file written although the env key was given")
	}
	b, _ := Load(t.TempDir(), "0123456789abcdef0123456789abcdef")
	if !bytes.Equal(a.JWTKey(), b.JWTKey()) {
		t.Fatal("same env secret must derive the same keys on every replica")
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, FileName), []byte("short"), 0o600)
	if _, err := Load(bad, ""); err == nil {
		t.Fatal("malformed secret file accepted")
	}
	if _, err := Derive([]byte("short")); err == nil {
		t.Fatal("short root accepted")
	}
}
