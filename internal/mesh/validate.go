package mesh

import (
	"net/netip"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/fault"
	"netkeep/internal/mac"
	"netkeep/internal/meshwire"
	"netkeep/internal/name"
)

// Limits on names and ranges.
const (
	MaxNetIDLen       = meshwire.MaxNetIDLen
	MaxNameLen        = meshwire.MaxNameLen
	MaxDisplayNameLen = 100
	MaxKeyNameLen     = 64
	MaxEgressRanges   = 64
	MaxKeepalive      = 1000
	MinListenPort     = 1024
	MaxListenPort     = 65535
	// MaxPrefixBits6 is the longest IPv6 range accepted: it leaves at least
	// 16 addresses to allocate.
	MaxPrefixBits6 = 124
)

func invalidField(field, msg string) *fault.Error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": field})
}

// ValidateNetID checks a network id: 1 to 32 lowercase letters, digits and
// '-', not starting or ending with '-'.
func ValidateNetID(id string) error {
	if msg := meshwire.CheckNetID(id); msg != "" {
		return invalidField("netid", msg)
	}
	return nil
}

// NormalizeMAC parses a node's MAC address (any form mac.Parse accepts,
// with surrounding space) into lowercase colon form.
func NormalizeMAC(s string) (string, error) {
	a, ok := mac.ParseString(strings.TrimSpace(s))
	if !ok {
		return "", invalidField("macaddress", "macaddress must be a MAC address such as 8c:90:b5:06:f1:d9")
	}
	return a.String(), nil
}

// ValidateName checks a node name: 1 to 62 letters, digits, '-', '_', '.'.
func ValidateName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return invalidField("name", "name must be 1 to 62 characters")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return invalidField("name", "name may contain only letters, digits, '-', '_' and '.'")
		}
	}
	return nil
}

// NormalizePublicKey checks that s is a WireGuard public key (32 bytes,
// standard base64) and returns its canonical encoding.
func NormalizePublicKey(s string) (string, error) {
	k, err := wgtypes.ParseKey(strings.TrimSpace(s))
	if err != nil {
		return "", invalidField("publickey", "publickey must be a WireGuard key: 32 bytes in base64")
	}
	if k == (wgtypes.Key{}) {
		return "", invalidField("publickey", "publickey must not be all zeros")
	}
	return k.String(), nil
}

// normalizeIP checks an optional IP address field.
func normalizeIP(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return "", invalidField(field, field+" must be an IP address")
	}
	return a.Unmap().String(), nil
}

func validatePort(field string, p int) error {
	if p < MinListenPort || p > MaxListenPort {
		return invalidField(field, field+" must be between 1024 and 65535")
	}
	return nil
}

// validateInterface checks a WireGuard interface name as Linux does
// (meshwire.CheckInterfaceName).
func validateInterface(field, s string) error {
	if msg := meshwire.CheckInterfaceName(s); msg != "" {
		return invalidField(field, field+": "+msg)
	}
	return nil
}

// validateOS checks a node's free-form os field: at most 32 bytes, nothing
// name.Check refuses.
func validateOS(s string) error {
	if len(s) > 32 {
		return invalidField("os", "os must be at most 32 characters")
	}
	if err := name.Check("os", s); err != nil {
		return err
	}
	return nil
}

func validateKeepalive(field string, k int) error {
	if k < 0 || k > MaxKeepalive {
		return invalidField(field, field+" must be between 0 and 1000 seconds")
	}
	return nil
}

// parseRange4 parses an IPv4 CIDR network range; host bits must be zero and
// it must leave room for at least two nodes.
func parseRange4(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, invalidField("addressrange", "addressrange must be an IPv4 CIDR such as 10.10.0.0/24")
	}
	if p.Masked() != p {
		return netip.Prefix{}, invalidField("addressrange", "addressrange has host bits set; did you mean "+p.Masked().String()+"?")
	}
	if p.Bits() > 30 || p.Bits() < 8 {
		return netip.Prefix{}, invalidField("addressrange", "addressrange must be between /8 and /30")
	}
	return p, nil
}

// parseRange6 parses an optional IPv6 CIDR network range.
func parseRange6(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Prefix{}, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() {
		return netip.Prefix{}, invalidField("addressrange6", "addressrange6 must be an IPv6 CIDR such as fd00:10::/64")
	}
	if p.Masked() != p {
		return netip.Prefix{}, invalidField("addressrange6", "addressrange6 has host bits set; did you mean "+p.Masked().String()+"?")
	}
	if p.Bits() > MaxPrefixBits6 {
		return netip.Prefix{}, invalidField("addressrange6", "addressrange6 must be /124 or shorter")
	}
	return p, nil
}

// ParseEgressRanges parses an egress gateway's ranges (CIDRs, v4 or v6),
// masking host bits and dropping duplicates. A default route (0.0.0.0/0)
// is allowed: an internet gateway.
func ParseEgressRanges(in []string) ([]netip.Prefix, error) {
	if len(in) == 0 {
		return nil, invalidField("ranges", "at least one range is required")
	}
	if len(in) > MaxEgressRanges {
		return nil, invalidField("ranges", "at most 64 ranges")
	}
	seen := map[netip.Prefix]bool{}
	out := make([]netip.Prefix, 0, len(in))
	for _, s := range in {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return nil, fault.Errorf(fault.Invalid, "range %q is not a CIDR", s).WithDetails(map[string]any{"field": "ranges"})
		}
		p = p.Masked()
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// overlaps reports whether two prefixes share an address.
func overlaps(a, b netip.Prefix) bool { return a.IsValid() && b.IsValid() && a.Overlaps(b) }
