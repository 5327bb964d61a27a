package radius

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strconv"

	"netkeep/internal/radius/wpa"
)

// SealedPMK is a PMK at rest: sealed together with a fingerprint of the
// passphrase it was derived from, so a stale PMK (the passphrase changed
// while this replica was down) is recognised without PBKDF2.
type SealedPMK struct {
	PSKID   int64
	GroupID int64
	SSID    string
	Sealed  []byte
}

// PMKTx is one transaction over the stored PMKs; internal/store implements it.
type PMKTx interface {
	RadiusPMKs(ctx context.Context) ([]SealedPMK, error)
	// PutRadiusPMKs inserts or replaces the PMKs by (PSKID, SSID).
	PutRadiusPMKs(ctx context.Context, pmks []SealedPMK) error
	// DeleteRadiusPMKs removes every PMK of the PSK.
	DeleteRadiusPMKs(ctx context.Context, pskID int64) error
}

// PMKStore persists PMKs; store.For[radius.PMKTx] binds it.
type PMKStore interface {
	InTx(ctx context.Context, fn func(PMKTx) error) error
	Read() PMKTx
}

// Sealer encrypts PMKs at rest; *secret.Keys implements it.
type Sealer interface {
	Seal(plaintext []byte, context string) ([]byte, error)
	Open(sealed []byte, context string) ([]byte, error)
}

func pmkContext(pskID int64, ssid string) string {
	return "radius-pmk:" + strconv.FormatInt(pskID, 10) + ":" + ssid
}

// fingerprint identifies the (passphrase, SSID) a PMK was derived from; it
// is only ever stored sealed.
func fingerprint(passphrase, ssid string) [16]byte {
	h := sha256.New()
	h.Write([]byte("netkeep pmk v1\x00"))
	h.Write([]byte(ssid))
	h.Write([]byte{0})
	h.Write([]byte(passphrase))
	var out [16]byte
	copy(out[:], h.Sum(nil))
	return out
}

func sealPMK(s Sealer, c *Credential, ssid string, pmk [wpa.PMKLen]byte) (SealedPMK, error) {
	fp := fingerprint(c.Passphrase, ssid)
	pt := append(pmk[:], fp[:]...)
	sealed, err := s.Seal(pt, pmkContext(c.PSKID, ssid))
	return SealedPMK{PSKID: c.PSKID, GroupID: c.GroupID, SSID: ssid, Sealed: sealed}, err
}

// openPMK returns the PMK if sp opens and was derived from c's passphrase.
func openPMK(s Sealer, sp SealedPMK, c *Credential) ([wpa.PMKLen]byte, bool) {
	var pmk [wpa.PMKLen]byte
	pt, err := s.Open(sp.Sealed, pmkContext(sp.PSKID, sp.SSID))
	if err != nil || len(pt) != wpa.PMKLen+16 {
		return pmk, false
	}
	fp := fingerprint(c.Passphrase, sp.SSID)
	if subtle.ConstantTimeCompare(pt[wpa.PMKLen:], fp[:]) != 1 {
		return pmk, false
	}
	copy(pmk[:], pt)
	return pmk, true
}
