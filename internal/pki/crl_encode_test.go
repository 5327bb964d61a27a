package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestCreateCRLMatchesStandardLibrary: for every supported key type the
// hand-encoded CRL's signed part is byte for byte what x509 produces, and
// its signature verifies.
func TestCreateCRLMatchesStandardLibrary(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	keys := map[string]crypto.Signer{"ECDSA P-256": p256, "ECDSA P-384": p384, "RSA 2048": rsaKey, "Ed25519": ed}

	at := time.Date(2026, 3, 1, 12, 30, 45, 123456789, time.UTC)
	entries := []Revocation{
		{Serial: "01", RevokedAt: at, Reason: Unspecified},
		{Serial: "7F", RevokedAt: at.Add(time.Second), Reason: KeyCompromise},
		{Serial: "80", RevokedAt: at, Reason: CACompromise}, // high bit: needs a leading zero
		{Serial: Serial("FF" + strings.Repeat("00", 15)), RevokedAt: at, Reason: Superseded},
		{Serial: Serial("0A" + strings.Repeat("5C", 19)), RevokedAt: at, Reason: AffiliationChanged}, // 20 bytes
		{Serial: SerialOf(newSerial()), RevokedAt: time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), Reason: CessationOfOperation},
		{Serial: SerialOf(newSerial()), RevokedAt: time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), Reason: PrivilegeWithdrawn},
		{Serial: SerialOf(newSerial()), RevokedAt: time.Date(1999, 6, 5, 4, 3, 2, 0, time.FixedZone("x", 3600)), Reason: AACompromise},
	}
	for i := 0; i < 300; i++ { // long enough for multi-byte lengths
		entries = append(entries, Revocation{Serial: SerialOf(newSerial()), RevokedAt: at, Reason: Reasons()[i%len(Reasons())]})
	}
	for name, key := range keys {
		t.Run(name, func(t *testing.T) {
			tmpl := &x509.Certificate{
				SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA", Organization: []string{"netkeep"}},
				NotBefore: at.Add(-time.Hour), NotAfter: at.Add(time.Hour * 24 * 365 * 30),
				KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
			if err != nil {
				t.Fatal(err)
			}
			ca, _ := x509.ParseCertificate(der)
			for _, n := range []int{0, 1, len(entries)} {
				crl := &x509.RevocationList{Number: big.NewInt(int64(1000 + n)), ThisUpdate: at, NextUpdate: at.Add(24 * time.Hour)}
				fast, err := createCRL(crl, entries[:n], ca, key)
				if err != nil {
					t.Fatal(err)
				}
				slow, err := createCRLSlow(crl, entries[:n], ca, key)
				if err != nil {
					t.Fatal(err)
				}
				f, err := x509.ParseRevocationList(fast)
				if err != nil {
					t.Fatalf("%d entries: parsing: %v", n, err)
				}
				s, _ := x509.ParseRevocationList(slow)
				if !bytes.Equal(f.RawTBSRevocationList, s.RawTBSRevocationList) {
					t.Fatalf("%d entries: the signed part differs from the standard library's", n)
				}
				if err := f.CheckSignatureFrom(ca); err != nil {
					t.Fatalf("%d entries: signature: %v", n, err)
				}
				if len(f.RevokedCertificateEntries) != n {
					t.Fatalf("%d entries parsed, want %d", len(f.RevokedCertificateEntries), n)
				}
			}
		})
	}
}

func TestAppendEntriesRejectsNonCanonicalSerials(t *testing.T) {
	t.Parallel()
	for _, sn := range []Serial{"", "1", "0G", Serial(strings.Repeat("AB", 21))} {
		if _, err := appendEntries(nil, []Revocation{{Serial: sn, RevokedAt: time.Now()}}); err == nil {
			t.Errorf("serial %q accepted", sn)
		}
	}
}
