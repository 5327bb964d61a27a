package hostinfo

import (
	"context"
	"net"
	"os"
	"strings"
	"time"
)

// Names lists what this host is called and where it is reached: its host
// name, the name with ".local" (mDNS), its fully qualified names as the
// resolver knows them, and its interfaces' addresses (link-local ones left
// out: a certificate cannot tell their zones apart).
func Names() ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	host, err := os.Hostname()
	if err != nil {
		return nil, err
	}
	add(host)
	if !strings.Contains(host, ".") {
		add(host + ".local")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if addrs, err := net.DefaultResolver.LookupHost(ctx, host); err == nil {
		for _, a := range addrs {
			names, _ := net.DefaultResolver.LookupAddr(ctx, a)
			for _, n := range names {
				if strings.Contains(strings.TrimSuffix(n, "."), ".") {
					add(n) // a fully qualified name
				}
			}
		}
	}
	ifAddrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	for _, a := range ifAddrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsLinkLocalMulticast() {
			continue
		}
		add(ipn.IP.String())
	}
	return out, nil
}
