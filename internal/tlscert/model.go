package tlscert

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Provider is who issues a certificate.
type Provider string

// SelfSigned is the only provider: netkeep's own CA. ACME is not offered
// (docs/certificates.md says why).
const SelfSigned Provider = "self-signed"

// Certificate is one stored certificate, named by its domain: the first
// name it was asked for.
type Certificate struct {
	Domain      string
	Provider    Provider
	Issuer      string   // the issuing CA's common name
	SANs        []string // the names and addresses asked for, in order
	Serial      string   // uppercase hex, as the CA records it
	Fingerprint string   // "SHA256:" and the hex SHA-256 of the DER
	NotBefore   time.Time
	NotAfter    time.Time
	// ChainPEM is the certificate and then its CA's; KeySealed the PKCS #8
	// private key sealed under the server secret (never shown).
	ChainPEM  []byte
	KeySealed []byte
	CreatedAt time.Time
}

// ExpiresInDays is how many whole days c stays valid after now; negative
// once expired.
func (c *Certificate) ExpiresInDays(now time.Time) int {
	d := c.NotAfter.Sub(now)
	days := int(d / (24 * time.Hour))
	if d < 0 && d%(24*time.Hour) != 0 {
		days--
	}
	return days
}

// Fingerprint is the "SHA256:<hex>" form of a certificate's DER.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "SHA256:" + hex.EncodeToString(sum[:])
}

func target(domain string) string { return "tls_certificate:" + domain }
