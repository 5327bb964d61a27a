package vpnconfig

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
)

// WireGuard client configurations.
//
// A WireGuard configuration has no certificate. At generation netkeep makes
// the client's key pair, leases the client a tunnel address from the
// gateway's VPN subnet and records the public key and address; the private
// key is kept sealed (bound to the configuration id, like an OpenVPN client
// key) so that the configuration's user can download the wg-quick file
// until it expires, and is erased when the configuration is revoked. The
// gateway learns its peers from Peers (the agent's wireguard-peers
// endpoint); generating or revoking a configuration raises the gateway's
// config version so that its next heartbeat tells the agent to refresh.

// Keepalive is the PersistentKeepalive of generated files: clients are
// usually behind NAT, and 25 s keeps their mappings open.
const Keepalive = 25

// leaseLock names the advisory lock serialising allocations on one gateway
// (PostgreSQL; SQLite has one writer anyway).
func leaseLock(gatewayID string) int64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(gatewayID))
	return 0x6e6b7767<<32 | int64(h.Sum32()) // "nkwg"
}

// generateWireGuard makes the client key pair, leases an address and
// records the configuration for p's user on WireGuard gateway g, whom
// Generate has checked p may use.
func (s *Service) generateWireGuard(ctx context.Context, p *authz.Principal, src audit.Source, g *gateway.Gateway) (*Generated, error) {
	if _, err := wgtypes.ParseKey(g.PublicKey); g.PublicKey == "" || err != nil {
		return nil, errGatewayKeyMissing
	}
	priv, err := NewWireGuardKey()
	if err != nil {
		return nil, fmt.Errorf("generating a WireGuard key: %w", err)
	}
	id := newID()
	plain := []byte(priv.String())
	sealed, err := s.keys.Seal(plain, sealContext(id))
	clear(plain)
	if err != nil {
		return nil, fmt.Errorf("sealing the client key: %w", err)
	}
	now := s.stamp()
	c := &Config{
		ID: id, UserID: p.UserID, GroupID: g.GroupID, GatewayID: g.ID, Protocol: WireGuard,
		CommonName: commonName(p), KeySealed: sealed, WireGuardKey: priv.PublicKey().String(),
		CreatedAt: now, ExpiresAt: now.Add(s.ttl),
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		addr, err := allocate(ctx, tx, g, c, now)
		if err != nil {
			return err
		}
		c.Address = netip.PrefixFrom(addr, 32)
		if err := tx.InsertVPNConfig(ctx, c); err != nil {
			return err
		}
		if err := tx.BumpGatewayVersions(ctx, []string{g.ID}, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, c.GroupID, "config.generate", target(c.ID), map[string]any{
			"gateway_id": c.GatewayID, "protocol": c.Protocol, "user_id": c.UserID,
			"public_key": c.WireGuardKey, "address": c.Address.String(), "expires_at": c.ExpiresAt,
		})
	})
	if err != nil {
		if fault.Is(err, fault.Conflict) {
			return nil, err
		}
		return nil, fmt.Errorf("recording config %s: %w", c.ID, err)
	}
	return &Generated{Config: c, DownloadURL: DownloadPath(c.ID), FileName: wireGuardFileName(g)}, nil
}

// allocate leases c the lowest free client address of g's VPN subnet: after
// the gateway's own (the first host), before the broadcast address, and
// not leased to an unexpired configuration. Errors: conflict
// (subnet_exhausted).
func allocate(ctx context.Context, tx Tx, g *gateway.Gateway, c *Config, now time.Time) (netip.Addr, error) {
	if err := tx.LockScope(ctx, leaseLock(g.ID)); err != nil {
		return netip.Addr{}, err
	}
	leased, err := tx.LeasedWireGuardAddresses(ctx, g.ID, now)
	if err != nil {
		return netip.Addr{}, err
	}
	used := make(map[netip.Addr]bool, len(leased))
	for _, a := range leased {
		used[a] = true
	}
	subnet := g.VPNSubnet.Masked()
	for a := g.TunnelAddress().Addr().Next(); subnet.Contains(a); a = a.Next() {
		if !subnet.Contains(a.Next()) {
			break // the broadcast address
		}
		if used[a] {
			continue
		}
		if err := tx.InsertWireGuardLease(ctx, g.ID, a, c.ID, c.ExpiresAt); err != nil {
			return netip.Addr{}, err
		}
		return a, nil
	}
	return netip.Addr{}, errSubnetExhausted
}

// releaseWireGuard frees revoked configuration c's address and tells its
// gateway to drop the peer.
func releaseWireGuard(ctx context.Context, tx Tx, c *Config, now time.Time) error {
	if err := tx.ReleaseWireGuardLease(ctx, c.ID); err != nil {
		return err
	}
	return tx.BumpGatewayVersions(ctx, []string{c.GatewayID}, now)
}

// renderWireGuard builds c's wg-quick file for gateway g: the opened
// private key and the address, the gateway's key and endpoint, and as
// AllowedIPs the destinations the user's access rules grant now, sorted.
func (s *Service) renderWireGuard(c *Config, g *gateway.Gateway, grants []gateway.Grant) (*File, error) {
	peerKey, err := wgtypes.ParseKey(g.PublicKey)
	if err != nil {
		return nil, errGatewayKeyMissing
	}
	plain, err := s.keys.Open(c.KeySealed, sealContext(c.ID))
	if err != nil {
		return nil, fmt.Errorf("opening the key of config %s: %w", c.ID, err)
	}
	key, err := wgtypes.ParseKey(string(plain))
	clear(plain)
	if err != nil {
		return nil, fmt.Errorf("the key of config %s: %w", c.ID, err)
	}
	// Sorted, so the file does not change with the order rules are read in.
	allowed := gateway.Destinations(grants)
	slices.SortFunc(allowed, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	body, err := WireGuardClient{
		Comment:             fmt.Sprintf("netkeep config %s for gateway %s (%s), expires %s", c.ID, g.Name, g.ID, c.ExpiresAt.UTC().Format(time.RFC3339)),
		PrivateKey:          key,
		Address:             c.Address,
		PeerPublicKey:       peerKey,
		Endpoint:            g.Hostname,
		Port:                g.Port,
		AllowedIPs:          allowed,
		PersistentKeepalive: Keepalive,
	}.Render()
	clear(key[:])
	if err != nil {
		return nil, err
	}
	return &File{Name: wireGuardFileName(g), ContentType: "text/plain; charset=utf-8", Body: body}, nil
}

// wireGuardFileName is the gateway's name cut to what wg-quick accepts as
// an interface name (it names the interface after the file: at most 15 of
// [a-zA-Z0-9_=+.-]) plus ".conf", so `wg-quick up ./<file>` works as
// downloaded.
func wireGuardFileName(g *gateway.Gateway) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, g.Name)
	name = strings.Trim(name, "-")
	if len(name) > 15 {
		name = strings.TrimRight(name[:15], "-")
	}
	if name == "" {
		name = "wg0"
	}
	return name + ".conf"
}

// Peers returns what the WireGuard gateway whose agent p is should
// configure: its tunnel address and port, and one peer per configuration
// that is neither revoked nor expired, whose user may still use the
// gateway (a disabled user or a removed access rule drops the peer) and
// whose address is inside the gateway's current VPN subnet (after the
// subnet changes, clients need new configurations).
// claimed, when not empty, must be the gateway's ID.
//
// Errors: unauthorized; forbidden (not a gateway agent, or another
// gateway's ID); invalid (an OpenVPN gateway).
func (s *Service) Peers(ctx context.Context, p *authz.Principal, claimed string) (*PeerSet, error) {
	g, err := s.gateways.AgentGateway(ctx, p, claimed)
	if err != nil {
		return nil, err
	}
	if g.VPNType != gateway.VPNWireGuard {
		return nil, fault.New(fault.Invalid, fmt.Sprintf("gateway %s is an %s gateway; WireGuard peers are for WireGuard gateways", g.ID, g.VPNType))
	}
	configs, err := s.store.Read().ActiveWireGuardConfigs(ctx, g.ID, s.stamp())
	if err != nil {
		return nil, err
	}
	users := make([]int64, 0, len(configs))
	for _, c := range configs {
		users = append(users, c.UserID)
	}
	entitled, err := s.gateways.Entitled(ctx, g, users)
	if err != nil {
		return nil, err
	}
	set := &PeerSet{GatewayID: g.ID, ConfigVersion: g.ConfigVersion, PublicKey: g.PublicKey,
		Address: g.TunnelAddress(), ListenPort: g.Port, Peers: []Peer{}}
	for _, c := range configs {
		if entitled[c.UserID] && g.VPNSubnet.Contains(c.Address.Addr()) {
			set.Peers = append(set.Peers, Peer{ConfigID: c.ID, UserID: c.UserID, PublicKey: c.WireGuardKey,
				AllowedIPs: c.Address, ExpiresAt: c.ExpiresAt})
		}
	}
	slices.SortFunc(set.Peers, func(a, b Peer) int { return a.AllowedIPs.Addr().Compare(b.AllowedIPs.Addr()) })
	return set, nil
}
