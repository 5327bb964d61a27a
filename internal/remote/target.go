package remote

import (
	"net/netip"
	"strconv"
	"strings"
)

// checkTarget accepts an IP address (without a zone), a host name (letters,
// digits, hyphens and underscores in dot-separated labels of at most 63
// characters, none starting or ending with a hyphen, 253 characters in
// all) or, when prefixOK, a prefix of at most MaxScanAddresses addresses.
// Nothing else reaches a program's arguments: no option (a leading "-"),
// no space, no shell character. It returns the target as it is passed on.
func checkTarget(s string, prefixOK bool) (string, error) {
	if s == "" {
		return "", invalid("target", "target is required")
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return "", invalid("target", "an address with a zone is not accepted")
		}
		return a.String(), nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || !prefixOK {
			return "", invalid("target", "target must be a host name or an IP address")
		}
		if p.Addr().BitLen()-p.Bits() > 8 {
			return "", invalid("target", "a scanned prefix may hold at most "+strconv.Itoa(MaxScanAddresses)+" addresses")
		}
		return p.Masked().String(), nil
	}
	if !hostName(s) {
		return "", invalid("target", "target must be a host name or an IP address")
	}
	return s, nil
}

// hostName reports whether s is a DNS host name (an optional final dot).
func hostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// checkPorts validates nmap's port list: comma-separated ports and
// ranges within 1-65535, at most MaxScanPorts ports in all. Empty is
// DefaultScanPorts. It returns the list as passed on.
func checkPorts(s string) (string, error) {
	if s == "" {
		return DefaultScanPorts, nil
	}
	bad := invalid("ports", "ports must be ports or ranges (1-65535) separated by commas, such as 22,80,443 or 1-1024")
	total := 0
	parts := strings.Split(s, ",")
	for i, part := range parts {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		a, errA := port(lo)
		b, errB := port(hi)
		if errA != nil || errB != nil || a > b {
			return "", bad
		}
		total += b - a + 1
		if total > MaxScanPorts {
			return "", invalid("ports", "one scan may probe at most "+strconv.Itoa(MaxScanPorts)+" ports")
		}
		if a == b {
			parts[i] = strconv.Itoa(a)
		} else {
			parts[i] = strconv.Itoa(a) + "-" + strconv.Itoa(b)
		}
	}
	return strings.Join(parts, ","), nil
}

// port parses a decimal port, digits only.
func port(s string) (int, error) {
	if s == "" || len(s) > 5 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, strconv.ErrSyntax
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, strconv.ErrRange
	}
	return n, nil
}
