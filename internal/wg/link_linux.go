package wg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.zx2c4.com/wireguard/device"
	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/meshwire"
)

// routeProtocol marks the routes netkeep adds (rtnetlink protocol 110,
// "n" for netkeep), so it removes its own stale routes and never touches
// anyone else's.
const routeProtocol netlink.RouteProtocol = 110

// mtu is WireGuard's usual MTU over a 1500-byte path.
const mtu = 1420

// linuxLink is a WireGuard interface programmed through wgctrl (kernel
// netlink or the userspace UAPI socket alike) with addresses and routes
// set over rtnetlink.
type linuxLink struct {
	name string
	log  *slog.Logger
	wg   *wgctrl.Client
	// userspace device, when this process runs it
	dev  *device.Device
	uapi net.Listener
}

// OpenLink creates the interface name (or adopts an existing kernel one).
// ModeAuto uses kernel WireGuard when the module is loaded and the device
// compiled into this binary otherwise.
func OpenLink(name string, mode Mode, log *slog.Logger) (Link, error) {
	if msg := meshwire.CheckInterfaceName(name); msg != "" {
		return nil, errors.New(msg)
	}
	l := &linuxLink{name: name, log: log}
	switch mode {
	case ModeKernel:
		if err := l.createKernel(); err != nil {
			return nil, fmt.Errorf("creating kernel WireGuard interface %s: %w", name, err)
		}
	case ModeUserspace:
		if err := l.createUserspace(); err != nil {
			return nil, fmt.Errorf("creating userspace WireGuard interface %s: %w", name, err)
		}
	default:
		if err := l.createKernel(); err != nil {
			log.Info("kernel WireGuard unavailable, using the userspace implementation", "interface", name, "reason", err)
			if err := l.createUserspace(); err != nil {
				return nil, fmt.Errorf("creating userspace WireGuard interface %s: %w", name, err)
			}
		}
	}
	wg, err := wgctrl.New()
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("opening the WireGuard control interface: %w", err)
	}
	l.wg = wg
	return l, nil
}

func (l *linuxLink) createKernel() error {
	if lk, err := netlink.LinkByName(l.name); err == nil {
		if lk.Type() != "wireguard" {
			return fmt.Errorf("%s exists and is a %s interface", l.name, lk.Type())
		}
		return nil // adopted: a previous run left it, or an administrator made it
	}
	return netlink.LinkAdd(&netlink.Wireguard{LinkAttrs: netlink.LinkAttrs{Name: l.name, MTU: mtu}})
}

// Close removes the interface: the userspace device goes with its TUN, a
// kernel interface is deleted.
func (l *linuxLink) Close() error {
	if l.wg != nil {
		l.wg.Close()
	}
	if l.dev != nil {
		l.uapi.Close()
		l.dev.Close()
		_ = os.Remove(socketPath(l.name))
		return nil
	}
	return RemoveInterface(l.name)
}

// RemoveInterface deletes a kernel WireGuard interface left behind, if any,
// and a stale userspace control socket. A userspace interface disappears
// with the process that runs it.
func RemoveInterface(name string) error {
	lk, err := netlink.LinkByName(name)
	if err == nil {
		err = netlink.LinkDel(lk)
	}
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		err = nil
	}
	if _, serr := net.Dial("unix", socketPath(name)); serr != nil {
		_ = os.Remove(socketPath(name)) // nobody listens: stale
	}
	return err
}

// Apply configures keys, peers, addresses, routes and the link state,
// changing only what differs from Spec.
func (l *linuxLink) Apply(ctx context.Context, s Spec) error {
	if err := l.applyWireGuard(s); err != nil {
		return fmt.Errorf("configuring WireGuard on %s: %w", l.name, err)
	}
	lk, err := netlink.LinkByName(l.name)
	if err != nil {
		return err
	}
	if err := applyAddresses(lk, s.Addresses); err != nil {
		return fmt.Errorf("setting addresses of %s: %w", l.name, err)
	}
	if err := netlink.LinkSetUp(lk); err != nil {
		return fmt.Errorf("bringing %s up: %w", l.name, err)
	}
	if err := applyRoutes(lk, s.Routes); err != nil {
		return fmt.Errorf("setting routes through %s: %w", l.name, err)
	}
	if s.Forward {
		if err := enableForwarding(s); err != nil {
			return fmt.Errorf("enabling IP forwarding for the egress gateway: %w", err)
		}
	}
	return nil
}

func (l *linuxLink) applyWireGuard(s Spec) error {
	cur, err := l.wg.Device(l.name)
	if err != nil {
		return err
	}
	var cfg wgtypes.Config
	if cur.PrivateKey != s.PrivateKey {
		cfg.PrivateKey = &s.PrivateKey
	}
	if s.ListenPort != 0 && cur.ListenPort != s.ListenPort {
		port := s.ListenPort
		cfg.ListenPort = &port
	}
	have := make(map[wgtypes.Key]wgtypes.Peer, len(cur.Peers))
	for _, p := range cur.Peers {
		have[p.PublicKey] = p
	}
	want := make(map[wgtypes.Key]bool, len(s.Peers))
	for _, p := range s.Peers {
		want[p.PublicKey] = true
		if h, ok := have[p.PublicKey]; ok && samePeer(h, p) {
			continue
		}
		ka := p.Keepalive
		pc := wgtypes.PeerConfig{PublicKey: p.PublicKey, Endpoint: p.Endpoint, ReplaceAllowedIPs: true,
			PersistentKeepaliveInterval: &ka}
		for _, a := range p.AllowedIPs {
			pc.AllowedIPs = append(pc.AllowedIPs, prefixIPNet(a))
		}
		cfg.Peers = append(cfg.Peers, pc)
	}
	for k := range have {
		if !want[k] {
			cfg.Peers = append(cfg.Peers, wgtypes.PeerConfig{PublicKey: k, Remove: true})
		}
	}
	if cfg.PrivateKey == nil && cfg.ListenPort == nil && len(cfg.Peers) == 0 {
		return nil
	}
	return l.wg.ConfigureDevice(l.name, cfg)
}

// samePeer reports whether the interface's peer already matches p. A peer
// whose endpoint is unknown to the server keeps whatever endpoint it roamed
// from.
func samePeer(h wgtypes.Peer, p PeerSpec) bool {
	if h.PersistentKeepaliveInterval != p.Keepalive {
		return false
	}
	if p.Endpoint != nil && (h.Endpoint == nil || h.Endpoint.AddrPort() != p.Endpoint.AddrPort()) {
		return false
	}
	if len(h.AllowedIPs) != len(p.AllowedIPs) {
		return false
	}
	got := make([]netip.Prefix, 0, len(h.AllowedIPs))
	for _, a := range h.AllowedIPs {
		got = append(got, ipNetPrefix(a))
	}
	for _, a := range p.AllowedIPs {
		if !slices.Contains(got, a) {
			return false
		}
	}
	return true
}

func applyAddresses(lk netlink.Link, want []netip.Prefix) error {
	have, err := netlink.AddrList(lk, netlink.FAMILY_ALL)
	if err != nil {
		return err
	}
	for _, a := range have {
		p := ipNetPrefix(*a.IPNet)
		if p.Addr().IsLinkLocalUnicast() || slices.Contains(want, p) {
			continue
		}
		if err := netlink.AddrDel(lk, &a); err != nil {
			return err
		}
	}
	for _, p := range want {
		n := prefixIPNet(p)
		n.IP = p.Addr().AsSlice() // the address itself, not the network
		if err := netlink.AddrReplace(lk, &netlink.Addr{IPNet: &n}); err != nil {
			return err
		}
	}
	return nil
}

func applyRoutes(lk netlink.Link, want []netip.Prefix) error {
	idx := lk.Attrs().Index
	have, err := netlink.RouteListFiltered(netlink.FAMILY_ALL,
		&netlink.Route{LinkIndex: idx, Protocol: routeProtocol}, netlink.RT_FILTER_OIF|netlink.RT_FILTER_PROTOCOL)
	if err != nil {
		return err
	}
	for _, r := range have {
		if r.Dst != nil && slices.Contains(want, ipNetPrefix(*r.Dst)) {
			continue
		}
		if err := netlink.RouteDel(&r); err != nil && !errors.Is(err, syscall.ESRCH) {
			return err
		}
	}
	for _, p := range want {
		n := prefixIPNet(p)
		r := &netlink.Route{LinkIndex: idx, Dst: &n, Scope: netlink.SCOPE_LINK, Protocol: routeProtocol}
		if err := netlink.RouteReplace(r); err != nil {
			return err
		}
	}
	return nil
}

// enableForwarding lets a gateway forward between the mesh and its ranges.
// It never turns forwarding off: other software may rely on it.
func enableForwarding(s Spec) error {
	v6 := false
	for _, a := range s.Addresses {
		v6 = v6 || a.Addr().Is6()
	}
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1\n"), 0o644); err != nil {
		return err
	}
	if v6 {
		return os.WriteFile("/proc/sys/net/ipv6/conf/all/forwarding", []byte("1\n"), 0o644)
	}
	return nil
}

func prefixIPNet(p netip.Prefix) net.IPNet {
	p = p.Masked()
	return net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func ipNetPrefix(n net.IPNet) netip.Prefix {
	a, _ := netip.AddrFromSlice(n.IP)
	ones, _ := n.Mask.Size()
	a = a.Unmap()
	return netip.PrefixFrom(a, ones)
}
