package federation

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"netkeep/internal/fault"
)

type testCA struct {
	der  []byte
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(tb testing.TB, name string) *testCA {
	tb.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{der: der, cert: cert, key: key}
}

func (ca *testCA) leaf(tb testing.TB, eku x509.ExtKeyUsage, notAfter time.Time) []byte {
	tb.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "peer"},
		ExtKeyUsage: []x509.ExtKeyUsage{eku}, NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

func TestChainCA(t *testing.T) {
	ca, other := newTestCA(t, "netkeep CA"), newTestCA(t, "netkeep CA")
	good := ca.leaf(t, x509.ExtKeyUsageServerAuth, time.Now().Add(time.Hour))
	tests := []struct {
		name  string
		chain [][]byte
		ok    bool
	}{
		{"ok/leaf and its CA", [][]byte{good, ca.der}, true},
		{"refused/leaf alone", [][]byte{good}, false},
		{"refused/another CA with the same name", [][]byte{good, other.der}, false},
		{"refused/a leaf as CA", [][]byte{good, good}, false},
		{"refused/client-only certificate", [][]byte{ca.leaf(t, x509.ExtKeyUsageClientAuth, time.Now().Add(time.Hour)), ca.der}, false},
		{"refused/expired", [][]byte{ca.leaf(t, x509.ExtKeyUsageServerAuth, time.Now().Add(-time.Minute)), ca.der}, false},
		{"refused/garbage", [][]byte{[]byte("x"), ca.der}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp, err := chainCA(tt.chain, time.Now())
			if tt.ok != (err == nil) {
				t.Fatalf("chainCA: %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && fp != Fingerprint(ca.der) {
				t.Errorf("fingerprint %s, want the CA's", fp)
			}
		})
	}
}

func TestParseToken(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	enc := func(s string) string { return TokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"ok", enc(`{"u":"https://a.example:8444","f":"` + fp + `","s":"secret"}`), true},
		{"ok/surrounding space", " " + enc(`{"u":"https://a.example:8444","f":"`+fp+`","s":"secret"}`) + "\n", true},
		{"invalid/no prefix", `{"u":"https://a"}`, false},
		{"invalid/not base64", TokenPrefix + "!!!", false},
		{"invalid/not json", enc("hello"), false},
		{"invalid/http URL", enc(`{"u":"http://a.example:8444","f":"` + fp + `","s":"secret"}`), false},
		{"invalid/short pin", enc(`{"u":"https://a.example:8444","f":"abcd","s":"secret"}`), false},
		{"invalid/pin not hex", enc(`{"u":"https://a.example:8444","f":"` + strings.Repeat("zz", 32) + `","s":"secret"}`), false},
		{"invalid/no secret", enc(`{"u":"https://a.example:8444","f":"` + fp + `"}`), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := parseToken(tt.token)
			if tt.ok != (err == nil) {
				t.Fatalf("parseToken: %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok && !fault.Is(err, fault.Invalid) {
				t.Errorf("error %v is not invalid", err)
			}
			if tt.ok && (b.Fingerprint != fp || b.Secret != "secret") {
				t.Errorf("parsed %+v", b)
			}
		})
	}
}

func TestLocalID(t *testing.T) {
	if got := localID("peer_0123456789ab", "grafana"); got != "peer-0123456789ab-grafana" {
		t.Errorf("localID = %q", got)
	}
	if got := localID("peer_0123456789ab", strings.Repeat("a", 60)); got != "" {
		t.Errorf("an id too long for the catalog: %q, want none", got)
	}
}
