package mesh

import (
	"encoding/json"
	"net/netip"
	"time"
)

// The JSON shapes below are the Netmaker dialect's field names (lowercase,
// times as Unix seconds), shared by the REST API and the push stream so an
// agent parses one vocabulary. None of them has a field for a private key,
// a password or an access key value.

// WireNetwork is a network as the API and the stream show it.
type WireNetwork struct {
	NetID               string `json:"netid"`
	DisplayName         string `json:"displayname"`
	AddressRange        string `json:"addressrange"`
	AddressRange6       string `json:"addressrange6"`
	IsDualStack         bool   `json:"isdualstack"`
	DefaultListenPort   int    `json:"defaultlistenport"`
	DefaultKeepalive    int    `json:"defaultkeepalive"`
	DefaultInterface    string `json:"defaultinterface"`
	CheckInInterval     int    `json:"checkininterval"`
	AllowManualSignUp   bool   `json:"allowmanualsignup"`
	RequireApproval     bool   `json:"requireapproval"`
	KeyUpdateTimestamp  int64  `json:"keyupdatetimestamp"`
	NodesLastModified   int64  `json:"nodeslastmodified"`
	NetworkLastModified int64  `json:"networklastmodified"`
	GroupID             int64  `json:"group_id"`
}

// WireNode is a node as the API and the stream's "self" show it.
type WireNode struct {
	ID                     int64    `json:"id"`
	Name                   string   `json:"name"`
	Network                string   `json:"network"`
	MACAddress             string   `json:"macaddress"`
	PublicKey              string   `json:"publickey"`
	Endpoint               string   `json:"endpoint"`
	ListenPort             int      `json:"listenport"`
	LocalAddress           string   `json:"localaddress"`
	Address                string   `json:"address"`
	Address6               string   `json:"address6"`
	AllowedIPs             []string `json:"allowedips"`
	PersistentKeepalive    int      `json:"persistentkeepalive"`
	Interface              string   `json:"interface"`
	LastModified           int64    `json:"lastmodified"`
	LastCheckIn            int64    `json:"lastcheckin"`
	LastPeerUpdate         int64    `json:"lastpeerupdate"`
	KeyUpdateTimestamp     int64    `json:"keyupdatetimestamp"`
	CheckInInterval        int      `json:"checkininterval"`
	IsPending              bool     `json:"ispending"`
	IsEgressGateway        bool     `json:"isegressgateway"`
	EgressGatewayRanges    []string `json:"egressgatewayranges"`
	EgressGatewayInterface string   `json:"egressgatewayinterface"`
	IsServer               bool     `json:"isserver"`
	OS                     string   `json:"os"`
	NeedKeyUpdate          bool     `json:"needkeyupdate"`
	GroupID                int64    `json:"group_id"`
}

// WirePeer is one entry of a node's peer view: what a WireGuard peer
// configuration needs (public key, endpoint, allowed IPs) and who it is.
// Endpoint is an IP address without port (ListenPort is separate), empty
// when the peer's public address is unknown.
type WirePeer struct {
	ID                  int64    `json:"id"`
	Name                string   `json:"name"`
	MACAddress          string   `json:"macaddress"`
	PublicKey           string   `json:"publickey"`
	Endpoint            string   `json:"endpoint"`
	ListenPort          int      `json:"listenport"`
	Address             string   `json:"address"`
	Address6            string   `json:"address6,omitempty"`
	LocalAddress        string   `json:"localaddress,omitempty"`
	AllowedIPs          []string `json:"allowedips"`
	IsEgressGateway     bool     `json:"isegressgateway"`
	EgressGatewayRanges []string `json:"egressgatewayranges,omitempty"`
	IsServer            bool     `json:"isserver,omitempty"`
}

// Message is one message of the push stream, as an agent decodes it. Which
// fields are set depends on Type; see the package documentation.
type Message struct {
	Type               string       `json:"type"`
	Seq                uint64       `json:"seq"`
	Network            *WireNetwork `json:"network,omitempty"`
	Self               *WireNode    `json:"self,omitempty"`
	Peers              []WirePeer   `json:"peers,omitempty"`
	Peer               *WirePeer    `json:"peer,omitempty"`
	ID                 int64        `json:"id,omitempty"`
	PublicKey          string       `json:"publickey,omitempty"`
	KeyUpdateTimestamp int64        `json:"keyupdatetimestamp,omitempty"`
}

// The message types of the push stream.
const (
	MsgFull      = "full"
	MsgUpsert    = "upsert"
	MsgRemove    = "remove"
	MsgSelf      = "self"
	MsgNetwork   = "network"
	MsgKeyUpdate = "keyupdate"
)

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
func (n *Network) Wire() WireNetwork {
	return WireNetwork{
		NetID:               n.NetID,
		DisplayName:         n.DisplayName,
		AddressRange:        prefixString(n.AddressRange),
		AddressRange6:       prefixString(n.AddressRange6),
		IsDualStack:         n.AddressRange6.IsValid(),
		DefaultListenPort:   n.DefaultListenPort,
		DefaultKeepalive:    n.DefaultKeepalive,
		DefaultInterface:    n.DefaultInterface,
		CheckInInterval:     n.CheckInInterval,
		AllowManualSignUp:   n.AllowManualSignUp,
		RequireApproval:     n.RequireApproval,
		KeyUpdateTimestamp:  unix(n.KeyUpdateAt),
		NodesLastModified:   unix(n.NodesModifiedAt),
		NetworkLastModified: unix(n.ModifiedAt),
		GroupID:             n.GroupID,
	}
}

// Wire returns n's API shape; net is its network (for the check-in interval,
// the peer update time and whether a key update is due).
func (n *Node) Wire(net *Network) WireNode {
	w := WireNode{
		ID:                     n.ID,
		Name:                   n.Name,
		Network:                n.Network,
		MACAddress:             n.MAC,
		PublicKey:              n.PublicKey,
		Endpoint:               n.Endpoint,
		ListenPort:             n.ListenPort,
		LocalAddress:           n.LocalAddress,
		Address:                addrString(n.Address),
		Address6:               addrString(n.Address6),
		AllowedIPs:             prefixStrings(n.AllowedIPs()),
		PersistentKeepalive:    n.PersistentKeepalive,
		Interface:              n.Interface,
		LastModified:           unix(n.ModifiedAt),
		LastCheckIn:            unix(n.LastCheckIn),
		KeyUpdateTimestamp:     unix(n.KeyUpdateAt),
		IsPending:              n.Pending,
		IsEgressGateway:        n.IsEgressGateway(),
		EgressGatewayRanges:    prefixStrings(n.EgressRanges),
		EgressGatewayInterface: n.EgressInterface,
		IsServer:               n.IsServer,
		OS:                     n.OS,
		GroupID:                n.GroupID,
	}
	if net != nil {
		w.CheckInInterval = net.CheckInInterval
		w.LastPeerUpdate = unix(net.NodesModifiedAt)
		w.NeedKeyUpdate = n.NeedsKeyUpdate(net)
	}
	return w
}

// peerWire returns n as a peer entry.
func (n *Node) peerWire() WirePeer {
	p := WirePeer{
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
