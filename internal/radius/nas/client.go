package nas

import (
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"netkeep/internal/fault"
	"netkeep/internal/name"
)

// Vendor is the RADIUS dialect a client speaks: how an Access-Accept
// carries the passphrase.
type Vendor string

// The dialects.
const (
	Cisco   Vendor = "cisco"   // Cisco-AVPair psk-mode / psk
	Meraki  Vendor = "meraki"  // Tunnel-Password
	Aruba   Vendor = "aruba"   // Aruba-MPSK-Passphrase
	Ruckus  Vendor = "ruckus"  // MS-MPPE-Recv-Key = PMK
	Hostapd Vendor = "hostapd" // Tunnel-Password
	Generic Vendor = "generic" // Tunnel-Password
)

// Vendors lists the dialects in documentation order.
var Vendors = []Vendor{Cisco, Meraki, Aruba, Ruckus, Hostapd, Generic}

func (v Vendor) valid() bool {
	for _, x := range Vendors {
		if v == x {
			return true
		}
	}
	return false
}

// Client is a NAS allowed to send requests. Secret is the plaintext shared
// secret; it is filled only for the RADIUS server (All, ByID) and never
// rendered by the API.
type Client struct {
	ID                          int64
	GroupID                     int64
	Name                        string
	Address                     string       // canonical: an IP, or a CIDR
	Prefix                      netip.Prefix // Address as a prefix (/32, /128 for an IP)
	Secret                      string
	SealedSecret                []byte // as stored
	Vendor                      Vendor
	RequireMessageAuthenticator bool
	// SSIDs are the networks this client serves with handshake
	// identification: PMKs are kept for every PSK of the group on each.
	SSIDs []string
	// MACPassword is what this client's MAC-authentication requests must
	// carry as their password; FixedMACPassword is the password of
	// MACPasswordFixed, filled like Secret (sealed at rest in
	// SealedMACPassword).
	MACPassword       MACPasswordMode
	FixedMACPassword  string
	SealedMACPassword []byte
	// DAE is where the NAS takes Disconnect and CoA requests.
	DAE       DAESettings
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewClient is what a caller asks for. GroupID 0 means the caller's group;
// a nil RequireMessageAuthenticator means true; an empty Vendor, generic.
type NewClient struct {
	GroupID                     int64
	Name                        string
	Address                     string
	Secret                      string
	Vendor                      Vendor
	RequireMessageAuthenticator *bool
	SSIDs                       []string
	// MACAuthPassword is "mac", "any" or a fixed password (see
	// ParseMACAuthPassword); nil means "mac".
	MACAuthPassword *string
	DAE             NewDAE
}

// Patch changes the fields that are set.
type Patch struct {
	Name                        *string
	Address                     *string
	Secret                      *string
	Vendor                      *Vendor
	RequireMessageAuthenticator *bool
	SSIDs                       *[]string
	MACAuthPassword             *string
	DAE                         NewDAE
}

// Limits.
const (
	MaxNameLen   = 100
	MinSecretLen = 8
	MaxSecretLen = 128
	MaxSSIDs     = 32
)

func invalidField(field, msg string) error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": field})
}

// ParseAddress accepts an IP or a CIDR and returns its canonical text and
// prefix: an IP stays an IP, a CIDR is masked (10.0.0.7/8 → 10.0.0.0/8).
func ParseAddress(s string) (string, netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap().WithZone("")
		return a.String(), netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return "", netip.Prefix{}, invalidField("address", "address must be an IP address or a CIDR prefix")
	}
	if p.Addr().Is4In6() {
		// ::ffff:10.0.0.0/104 is 10.0.0.0/8: the packet path looks up
		// unmapped source addresses, so a client is keyed unmapped too.
		if p.Bits() < 96 {
			return "", netip.Prefix{}, invalidField("address", "an IPv4-mapped prefix must be /96 or longer")
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	p = netip.PrefixFrom(p.Addr().WithZone(""), p.Bits()).Masked()
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr().String(), p, nil
	}
	return p.String(), p, nil
}

func checkName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if err := name.Check("name", s); err != nil {
		return "", fault.As(err).WithDetails(map[string]any{"field": "name"})
	}
	switch {
	case s == "":
		return "", invalidField("name", "name is required")
	case utf8.RuneCountInString(s) > MaxNameLen:
		return "", invalidField("name", "name must be at most 100 characters")
	}
	return s, nil
}

func checkSecret(s string) error {
	if len(s) < MinSecretLen || len(s) > MaxSecretLen {
		return invalidField("secret", "secret must be 8 to 128 characters")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return invalidField("secret", "secret must be printable ASCII")
		}
	}
	return nil
}

func checkVendor(v Vendor) (Vendor, error) {
	if v == "" {
		return Generic, nil
	}
	v = Vendor(strings.ToLower(string(v)))
	if !v.valid() {
		return "", invalidField("vendor", "vendor must be one of cisco, meraki, aruba, ruckus, hostapd, generic")
	}
	return v, nil
}

func checkSSIDs(in []string) ([]string, error) {
	if len(in) > MaxSSIDs {
		return nil, invalidField("ssids", "at most 32 SSIDs")
	}
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, s := range in {
		if len(s) == 0 || len(s) > 32 {
			return nil, invalidField("ssids", "each SSID must be 1 to 32 bytes")
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}

// target names c in audit entries.
func (c *Client) target() string { return "radius_client:" + itoa(c.ID) }
