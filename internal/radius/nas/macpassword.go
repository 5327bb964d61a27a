package nas

import (
	"netkeep/internal/fault"
	"netkeep/internal/name"
)

// MACPasswordMode is what a client's MAC-authentication requests must carry
// as their password (PAP User-Password or CHAP-Password). Access points
// send the station's MAC there; equipment that sends something else is
// configured to "any" or to the fixed password it sends.
type MACPasswordMode string

// The modes.
const (
	// MACPasswordMAC: the station's MAC, in any form mac.Parse accepts
	// (PAP), or in one of mac.VendorFormats (CHAP). The default.
	MACPasswordMAC MACPasswordMode = "mac"
	// MACPasswordAny: any password, or none, is accepted unchecked.
	MACPasswordAny MACPasswordMode = "any"
	// MACPasswordFixed: one password, the same for every station, set on
	// the client and never rendered back.
	MACPasswordFixed MACPasswordMode = "fixed"
)

// MaxMACPasswordLen is the longest User-Password RADIUS carries (RFC 2865
// §5.2).
const MaxMACPasswordLen = 128

// ParseMACAuthPassword reads the API's mac_auth_password: "mac", "any", or
// any other text as the fixed password. "fixed" stands for the fixed
// password already set (what responses show), so it is accepted only when
// cur is MACPasswordFixed, and then keeps it (keep true).
func ParseMACAuthPassword(in string, cur MACPasswordMode) (mode MACPasswordMode, fixed string, keep bool, err error) {
	switch MACPasswordMode(in) {
	case MACPasswordMAC, MACPasswordAny:
		return MACPasswordMode(in), "", false, nil
	case MACPasswordFixed:
		if cur != MACPasswordFixed {
			return "", "", false, invalidField("mac_auth_password",
				`mac_auth_password "fixed" keeps a fixed password already set; give the password itself`)
		}
		return MACPasswordFixed, "", true, nil
	}
	if in == "" || len(in) > MaxMACPasswordLen {
		return "", "", false, invalidField("mac_auth_password",
			`mac_auth_password must be "mac", "any" or a password of 1 to 128 bytes`)
	}
	if err := name.Check("mac_auth_password", in); err != nil {
		return "", "", false, fault.As(err).WithDetails(map[string]any{"field": "mac_auth_password"})
	}
	return MACPasswordFixed, in, false, nil
}

// macPasswordContext binds a sealed fixed password to its row.
func macPasswordContext(id int64) string { return "radius-client-mac-password:" + itoa(id) }
