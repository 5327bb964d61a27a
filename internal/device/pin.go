package device

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
)

// SPKIPin is the pin of cert's public key as Nekzus's apps check it:
// "sha256/" and the standard base64 of the SHA-256 of its
// SubjectPublicKeyInfo (the HPKP form), which survives renewals that keep
// the key.
func SPKIPin(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "sha256/" + base64.StdEncoding.EncodeToString(sum[:])
}
