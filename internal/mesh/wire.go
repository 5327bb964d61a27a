package mesh

import (
	"encoding/json"
	"net/netip"
	"time"

	"netkeep/internal/meshwire"
)

// The wire shapes (meshwire) are built here from the domain's records.

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func prefixString(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	return p.String()
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// Wire returns n's API shape.
func (n *Network) Wire() meshwire.Network {
	return meshwire.Network{
		NetID:                  n.NetID,
		DisplayName:            n.DisplayName,
		AddressRange:           prefixString(n.AddressRange),
		AddressRange6:          prefixString(n.AddressRange6),
		IsDualStack:            n.AddressRange6.IsValid(),
		DefaultListenPort:      n.DefaultListenPort,
		DefaultKeepalive:       n.DefaultKeepalive,
		DefaultInterface:       n.DefaultInterface,
		CheckInInterval:        n.CheckInInterval,
		DefaultCheckInInterval: n.CheckInInterval,
		AllowManualSignUp:      n.AllowManualSignUp,
		RequireApproval:        n.RequireApproval,
		KeyUpdateTimestamp:     unix(n.KeyUpdateAt),
		NodesLastModified:      unix(n.NodesModifiedAt),
		NetworkLastModified:    unix(n.ModifiedAt),
		GroupID:                n.GroupID,
	}
}

// Wire returns n's API shape; net is its network (for the check-in interval,
// the peer update time and whether a key update is due).
func (n *Node) Wire(net *Network) meshwire.Node {
	w := meshwire.Node{
		ID:                  n.ID,
		Name:                n.Name,
		Network:             n.Network,
		MACAddress:          n.MAC,
		PublicKey:           n.PublicKey,
		Endpoint:            n.Endpoint,
		ListenPort:          n.ListenPort,
		LocalAddress:        n.LocalAddress,
		Address:             addrString(n.Address),
		Address6:            addrString(n.Address6),
		AllowedIPs:          prefixStrings(n.AllowedIPs()),
		PersistentKeepalive: n.PersistentKeepalive,
		Interface:           n.Interface,
		LastModified:        unix(n.ModifiedAt),
		LastCheckIn:         unix(n.LastCheckIn),
		KeyUpdateTimestamp:  unix(n.KeyUpdateAt),
		IsPending:           n.Pending,
		IsServer:            n.IsServer,
		OS:                  n.OS,
		GroupID:             n.GroupID,
		ExpDateTime:         meshwire.NeverExpires,
	}
	w.SetEgress(prefixStrings(n.EgressRanges), n.EgressInterface)
	if net != nil {
		w.CheckInInterval = net.CheckInInterval
		w.LastPeerUpdate = unix(net.NodesModifiedAt)
		w.NeedKeyUpdate = n.NeedsKeyUpdate(net)
	}
	return w
}

// peerWire returns n as a peer entry.
func (n *Node) peerWire() meshwire.Peer {
	p := meshwire.Peer{
		ID:           n.ID,
		Name:         n.Name,
		MACAddress:   n.MAC,
		PublicKey:    n.PublicKey,
		Endpoint:     n.Endpoint,
		ListenPort:   n.ListenPort,
		Address:      addrString(n.Address),
		Address6:     addrString(n.Address6),
		LocalAddress: n.LocalAddress,
		AllowedIPs:   prefixStrings(n.AllowedIPs()),
		IsServer:     n.IsServer,
	}
	if n.IsEgressGateway() {
		p.IsEgressGateway = true
		p.EgressGatewayRanges = prefixStrings(n.EgressRanges)
	}
	return p
}

// encodePeer is n's peer entry as cached in the network state.
func encodePeer(n *Node) []byte {
	b, err := json.Marshal(n.peerWire())
	if err != nil {
		panic("mesh: encoding a peer: " + err.Error()) // plain strings and numbers cannot fail
	}
	return b
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("mesh: encoding: " + err.Error())
	}
	return b
}
