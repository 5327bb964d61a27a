package gateway

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"net/netip"
	"slices"
	"strconv"

	"netkeep/internal/authz"
	"netkeep/internal/pki"
)

// GateKey's mesh agents run on the hosts of a hub and its spokes:
// gatekey-hub serves the hub's OpenVPN server, gatekey-mesh-gateway dials
// it from a spoke's site as an OpenVPN client. In netkeep both hosts are
// gateways (the hub's gateway, a hub's gateway spoke) and their agents
// authenticate with their gateway's token. What they are served is derived
// from the same data as the topology of /api/v1/gateway/all-rules
// (topology.go): the hub's spokes, the networks behind each, and the
// hub's routes.

// SpokeCNPrefix starts the common name of a spoke's client certificate:
// GateKey's hub tells spokes from VPN users by it, and names each spoke's
// client-config-dir file after it.
const SpokeCNPrefix = "mesh-gateway-"

// MeshSite is one gateway spoke as its hub's agent serves it.
type MeshSite struct {
	Hub     *Hub // the hub it is a spoke of (the first by name when several)
	Gateway *Gateway
	// TunnelIP is the fixed tunnel address the hub gives the spoke (see
	// tunnelAddrs); invalid when the hub's client subnet has no room.
	TunnelIP netip.Addr
	// Networks are the CIDRs of the networks behind the spoke's gateway:
	// what the hub routes to it.
	Networks []netip.Prefix
}

// HubNode is a hub gateway's part in its group's mesh: every hub it is the
// hub gateway of, their gateway spokes, and every prefix it routes to them.
type HubNode struct {
	Gateway *Gateway
	Hubs    []*Hub         // by name
	Spokes  []MeshSite     // by gateway name; a spoke of several of the hubs once
	Routes  []netip.Prefix // sorted, distinct: every site's networks
	// Version is the configuration version of the hub's OpenVPN server
	// (meshVersion): a change asks its agent to provision again.
	Version string
	Trust   *pki.Trust
}

// SpokeNode is a spoke gateway's part: the hub it dials and its own site.
type SpokeNode struct {
	Hub        *Hub
	HubGateway *Gateway
	Site       MeshSite
	Version    string
	Trust      *pki.Trust
	hubKey     []byte // the hub gateway's OpenVPN static key (tls-auth): a secret
}

// meshGraph is what a node's view is computed from: the group's hubs,
// gateways and access policy.
type meshGraph struct {
	hubs     []*Hub
	gateways map[string]*Gateway
	pol      *policy
}

func (s *Service) loadMesh(ctx context.Context, groupID int64) (*meshGraph, error) {
	rd := s.store.Read()
	hubs, err := rd.ListMeshHubs(ctx, groupID)
	if err != nil {
		return nil, err
	}
	gws, err := rd.ListGateways(ctx, groupID)
	if err != nil {
		return nil, err
	}
	pol, err := loadPolicy(ctx, rd, groupID)
	if err != nil {
		return nil, err
	}
	m := &meshGraph{hubs: hubs, gateways: make(map[string]*Gateway, len(gws)), pol: pol}
	for _, g := range gws {
		m.gateways[g.ID] = g
	}
	return m, nil
}

// ownMesh returns p's gateway and its group's mesh. Errors: forbidden
// (not a gateway), unauthorized.
func (s *Service) ownMesh(ctx context.Context, p *authz.Principal) (*Gateway, *meshGraph, error) {
	g, err := s.self(ctx, p, "")
	if err != nil {
		return nil, nil, err
	}
	m, err := s.loadMesh(ctx, g.GroupID)
	return g, m, err
}

// hubMesh is ownMesh for a hub gateway, with the hubs it is the hub
// gateway of. Errors: as ownMesh, and forbidden when it is of none.
func (s *Service) hubMesh(ctx context.Context, p *authz.Principal) (*Gateway, *meshGraph, []*Hub, error) {
	g, m, err := s.ownMesh(ctx, p)
	if err != nil {
		return nil, nil, nil, err
	}
	hubs := m.hubsOf(g.ID)
	if len(hubs) == 0 {
		return nil, nil, nil, errNodeType
	}
	return g, m, hubs, nil
}

// hubsOf returns the hubs whose hub gateway is id.
func (m *meshGraph) hubsOf(id string) []*Hub {
	var out []*Hub
	for _, h := range m.hubs {
		if h.GatewayID == id {
			out = append(out, h)
		}
	}
	return out
}

// sites returns the gateway spokes of hubs (all of one hub gateway, hg),
// each once, by gateway name, with their tunnel addresses in hg's subnet.
func (m *meshGraph) sites(hg *Gateway, hubs []*Hub) []MeshSite {
	var out []MeshSite
	seen := map[string]bool{}
	for _, h := range hubs {
		for _, sp := range h.Spokes {
			g := m.gateways[sp.ID]
			if sp.Kind != SpokeGateway || g == nil || seen[g.ID] {
				continue
			}
			seen[g.ID] = true
			out = append(out, MeshSite{Hub: h, Gateway: g, Networks: sortPrefixes(m.pol.siteCIDRs(sp))})
		}
	}
	slices.SortFunc(out, func(a, b MeshSite) int {
		return cmp.Or(cmp.Compare(a.Gateway.Name, b.Gateway.Name), cmp.Compare(a.Gateway.ID, b.Gateway.ID))
	})
	ids := make([]string, len(out))
	for i, st := range out {
		ids[i] = st.Gateway.ID
	}
	addrs := tunnelAddrs(hg.VPNSubnet, ids)
	for i := range out {
		out[i].TunnelIP = addrs[out[i].Gateway.ID]
	}
	return out
}

// HubNode returns the hub part of p's gateway. Errors: forbidden (not a
// gateway, or not the hub gateway of any hub), unauthorized.
func (s *Service) HubNode(ctx context.Context, p *authz.Principal) (*HubNode, error) {
	g, m, hubs, err := s.hubMesh(ctx, p)
	if err != nil {
		return nil, err
	}
	n := &HubNode{Gateway: g, Hubs: hubs, Spokes: m.sites(g, hubs)}
	for _, r := range m.pol.hubRoutes(hubs, g) {
		n.Routes = append(n.Routes, r.Routes...)
	}
	n.Routes = sortPrefixes(n.Routes)
	trust, err := s.pki.Trust(ctx, g.GroupID)
	if err != nil {
		return nil, err
	}
	key, err := s.TLSCryptKey(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	n.Version, n.Trust = hubVersion(g, trust, key), trust
	return n, nil
}

// SpokeNode returns the spoke part of p's gateway: its hub (the first by
// name when it is a spoke of several) and its site as that hub's agent
// sees it. Errors: forbidden (not a gateway spoke of any hub),
// unauthorized, not_found (the hub's gateway is gone).
func (s *Service) SpokeNode(ctx context.Context, p *authz.Principal) (*SpokeNode, error) {
	g, m, err := s.ownMesh(ctx, p)
	if err != nil {
		return nil, err
	}
	self := Spoke{Kind: SpokeGateway, ID: g.ID}
	i := slices.IndexFunc(m.hubs, func(h *Hub) bool { return slices.Contains(h.Spokes, self) })
	if i < 0 {
		return nil, errNodeType
	}
	h := m.hubs[i]
	hg := m.gateways[h.GatewayID]
	if hg == nil {
		return nil, errGatewayNotFound
	}
	n := &SpokeNode{Hub: h, HubGateway: hg}
	for _, st := range m.sites(hg, m.hubsOf(hg.ID)) {
		if st.Gateway.ID == g.ID {
			n.Site = st
		}
	}
	trust, err := s.pki.Trust(ctx, g.GroupID)
	if err != nil {
		return nil, err
	}
	key, err := s.TLSCryptKey(ctx, hg.ID)
	if err != nil {
		return nil, err
	}
	n.Version, n.Trust, n.hubKey = spokeVersion(hg, g, trust, key), trust, key
	return n, nil
}

// tunnelAddrs gives each spoke gateway of ids a fixed tunnel address in
// the hub's client subnet, which the hub pushes to it. Addresses come from
// the subnet's upper half, away from the low addresses OpenVPN's dynamic
// pool hands out first. A spoke's slot is a hash of its gateway ID,
// probing upward (in ids order) on a collision, so adding or removing a
// spoke moves no other spoke unless their hashes collide. An IPv6 subnet,
// or an upper half with no free slot, leaves a spoke without an address.
func tunnelAddrs(subnet netip.Prefix, ids []string) map[string]netip.Addr {
	out := make(map[string]netip.Addr, len(ids))
	if !subnet.Addr().Is4() || subnet.Bits() > 29 {
		return out
	}
	b := subnet.Masked().Addr().As4()
	base := binary.BigEndian.Uint32(b[:])
	size := uint32(1) << (32 - subnet.Bits())
	first, slots := size/2, size/2-1 // the upper half without the broadcast address
	taken := make(map[uint32]bool, len(ids))
	for _, id := range ids {
		if len(taken) == int(slots) {
			break
		}
		h := fnv.New32a()
		h.Write([]byte(id))
		slot := h.Sum32() % slots
		for taken[slot] {
			slot = (slot + 1) % slots
		}
		taken[slot] = true
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], base+first+slot)
		out[id] = netip.AddrFrom4(a)
	}
	return out
}

// hubVersion is the version of what a hub's OpenVPN server is configured
// from: its listener, its client subnet, the CAs it trusts and its static
// key. A new server certificate alone does not change it, since GateKey's
// hub saves the version the heartbeat reports after provisioning.
func hubVersion(g *Gateway, trust *pki.Trust, key []byte) string {
	return meshVersion("hub", strconv.Itoa(g.Port), string(g.Protocol), g.VPNSubnet.String(), g.Hostname,
		trust.Digest, string(key))
}

// spokeVersion is the version of what a spoke's OpenVPN client is
// configured from: its hub's address and static key, the CAs, and its own
// name (its certificate's common name).
func spokeVersion(hg, g *Gateway, trust *pki.Trust, key []byte) string {
	return meshVersion("spoke", hg.Hostname, strconv.Itoa(hg.Port), string(hg.Protocol), trust.Digest,
		string(key), g.Name)
}

// meshVersion is 16 hex digits of the SHA-256 of parts.
func meshVersion(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// sortPrefixes sorts ps by address then length and drops duplicates.
func sortPrefixes(ps []netip.Prefix) []netip.Prefix {
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		return cmp.Or(a.Addr().Compare(b.Addr()), a.Bits()-b.Bits())
	})
	return slices.Compact(ps)
}
