package gateway

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Field limits.
const (
	MaxName        = 64
	MaxDescription = 512
)

// validName checks a display name: 1..MaxName characters of text without
// control characters.
func validName(field, s string) error {
	switch {
	case s == "":
		return invalidField(field, field+" is required")
	case !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxName:
		return invalidField(field, fmt.Sprintf("%s must be text of at most %d characters", field, MaxName))
	}
	if hasControl(s) {
		return invalidField(field, field+" must not contain control characters")
	}
	return nil
}

func validDescription(s string) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxDescription {
		return invalidField("description", fmt.Sprintf("description must be text of at most %d characters", MaxDescription))
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// validHostname accepts an IP address or a DNS name (letters, digits, '-'
// and '_' in labels of 1..63, 253 characters at most): what clients put in
// their "remote" line and the gateway's certificate names.
func validHostname(s string) error {
	if s == "" {
		return invalidField("hostname", "hostname is required")
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	bad := invalidField("hostname", fmt.Sprintf("hostname %q is neither a DNS name nor an IP address", s))
	if len(s) > 253 {
		return bad
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return bad
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return bad
			}
		}
	}
	return nil
}

func validPort(field string, p int) error {
	if p < 1 || p > 65535 {
		return invalidField(field, field+" must be between 1 and 65535")
	}
	return nil
}

func parseProtocol(s string) (Protocol, error) {
	switch p := Protocol(strings.ToLower(s)); p {
	case ProtocolUDP, ProtocolTCP:
		return p, nil
	}
	return "", invalidField("protocol", fmt.Sprintf("protocol must be udp or tcp, not %q", s))
}

func parseVPNType(s string) (VPNType, error) {
	switch t := VPNType(strings.ToLower(s)); t {
	case VPNOpenVPN, VPNWireGuard:
		return t, nil
	}
	return "", invalidField("vpn_type", fmt.Sprintf("vpn_type must be openvpn or wireguard, not %q", s))
}

// parsePrefix parses a CIDR; it must be masked (no host bits), so that what
// is stored is what was meant.
func parsePrefix(field, s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, invalidField(field, fmt.Sprintf("%s %q is not a CIDR (like 10.0.0.0/24)", field, s))
	}
	if p.Masked() != p {
		return netip.Prefix{}, invalidField(field, fmt.Sprintf("%s %q has host bits set; did you mean %s?", field, s, p.Masked()))
	}
	return p, nil
}

// parseVPNSubnet parses a client address pool: IPv4, between /8 and /30.
func parseVPNSubnet(s string) (netip.Prefix, error) {
	p, err := parsePrefix("vpn_subnet", s)
	if err != nil {
		return p, err
	}
	if !p.Addr().Is4() || p.Bits() < 8 || p.Bits() > 30 {
		return netip.Prefix{}, invalidField("vpn_subnet", "vpn_subnet must be an IPv4 range between /8 and /30")
	}
	return p, nil
}

func parseRuleProtocol(s string) (RuleProtocol, error) {
	if s == "" {
		return RuleAny, nil
	}
	switch p := RuleProtocol(strings.ToLower(s)); p {
	case RuleAny, RuleTCP, RuleUDP, RuleICMP:
		return p, nil
	}
	return "", invalidField("protocol", fmt.Sprintf("protocol must be any, tcp, udp or icmp, not %q", s))
}

// ParsePorts parses a port list like "22", "80,443" or "8000-8100, 9000":
// comma-separated ports and inclusive ranges. Empty means every port.
func ParsePorts(s string) ([]PortRange, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "*" || strings.EqualFold(s, "any") {
		return nil, nil
	}
	var out []PortRange
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		from, err1 := strconv.Atoi(strings.TrimSpace(lo))
		to := from
		var err2 error
		if isRange {
			to, err2 = strconv.Atoi(strings.TrimSpace(hi))
		}
		if err1 != nil || err2 != nil || from < 1 || to > 65535 || from > to {
			return nil, invalidField("ports", fmt.Sprintf("%q is not a port (1-65535) or a range like 8000-8100", part))
		}
		out = append(out, PortRange{From: uint16(from), To: uint16(to)})
	}
	return out, nil
}

// String is the range as ParsePorts reads it: "443" or "8000-8100".
func (r PortRange) String() string {
	if r.From == r.To {
		return strconv.Itoa(int(r.From))
	}
	return strconv.Itoa(int(r.From)) + "-" + strconv.Itoa(int(r.To))
}

// FormatPorts is the inverse of ParsePorts ("" for every port).
func FormatPorts(ports []PortRange) string {
	parts := make([]string, len(ports))
	for i, r := range ports {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// applyLabel validates and applies the name and description every gateway
// object has (nil leaves a field alone) and returns the names of the fields
// that changed.
func applyLabel(name, desc *string, toName, toDesc *string) ([]string, error) {
	var changed []string
	if name != nil {
		n := strings.TrimSpace(*name)
		if err := validName("name", n); err != nil {
			return nil, err
		}
		if n != *toName {
			*toName, changed = n, append(changed, "name")
		}
	}
	if desc != nil {
		if err := validDescription(*desc); err != nil {
			return nil, err
		}
		if *desc != *toDesc {
			*toDesc, changed = *desc, append(changed, "description")
		}
	}
	return changed, nil
}
