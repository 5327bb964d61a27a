package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// The roles local trust may act with (LocalTrustRole), named as users'
// roles are.
const (
	LocalTrustGroupAdmin = "GROUP_ADMIN"
	LocalTrustSuperAdmin = "SUPER_ADMIN"
)

// LocalTrustNetworks parses LocalTrust: comma-separated CIDRs or single
// addresses, and "loopback" for 127.0.0.0/8 and ::1. Nothing is trusted
// by default, loopback included: on a shared host every local user would
// otherwise be an administrator.
func (c *Config) LocalTrustNetworks() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(c.LocalTrust, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
			continue
		case f == "loopback":
			out = append(out, netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))
			continue
		case strings.Contains(f, "/"):
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("local-trust: %q is not a network (CIDR)", f)
			}
			out = append(out, p.Masked())
		default:
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("local-trust: %q is not an address, a CIDR or \"loopback\"", f)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out, nil
}
