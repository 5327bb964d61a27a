package gateway

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"netkeep/internal/testpeer"
)

func TestTLSCryptKeyFormat(t *testing.T) {
	t.Parallel()
	a, b := newTLSCryptKey(), newTLSCryptKey()
	if bytes.Equal(a, b) {
		t.Fatal("two keys are equal")
	}
	lines := strings.Split(strings.TrimSuffix(string(a), "\n"), "\n")
	if len(lines) != 21 || lines[3] != "-----BEGIN OpenVPN Static key V1-----" || lines[20] != "-----END OpenVPN Static key V1-----" {
		t.Fatalf("key:\n%s", a)
	}
	for _, l := range lines[4:20] {
		if len(l) != 32 || strings.Trim(l, "0123456789abcdef") != "" {
			t.Fatalf("key line %q", l)
		}
	}
}

// TestTLSCryptKeyOpenVPN: OpenVPN itself reads the key (its crypto
// self-test over a static key), and refuses a truncated one.
func TestTLSCryptKeyOpenVPN(t *testing.T) {
	t.Parallel()
	openvpn := testpeer.Command(t, "openvpn", "openvpn")
	dir := t.TempDir()
	run := func(key []byte) ([]byte, error) {
		path := filepath.Join(dir, "key")
		if err := os.WriteFile(path, key, 0o600); err != nil {
			t.Fatal(err)
		}
		return exec.Command(openvpn, "--test-crypto", "--secret", path, "--cipher", "AES-256-CBC", "--verb", "1").CombinedOutput()
	}
	key := newTLSCryptKey()
	if out, err := run(key); err != nil || !bytes.Contains(out, []byte("SUCCEEDED")) {
		t.Fatalf("openvpn rejects the key: %v\n%s", err, out)
	}
	truncated := bytes.Replace(key, key[bytes.Index(key, []byte("V1-----\n"))+8:][:33], nil, 1)
	if out, err := run(truncated); err == nil {
		t.Fatalf("openvpn accepted a truncated key:\n%s", out)
	}
}
