package mesh

import (
	"net/netip"
	"time"

	"netkeep/internal/meshwire"
)

// Network is one WireGuard mesh of a group: an IPv4 range (and optionally an
// IPv6 one) its nodes get addresses from, and the defaults they start with.
// NetID is unique across the server.
type Network struct {
	ID                int64
	GroupID           int64
	NetID             string // 1..32 of [a-z0-9-], see ValidateNetID
	DisplayName       string
	AddressRange      netip.Prefix // IPv4, masked
	AddressRange6     netip.Prefix // IPv6, masked; invalid (zero) when the network has none
	DefaultListenPort int
	DefaultKeepalive  int // seconds; 0 disables keepalives
	DefaultInterface  string
	CheckInInterval   int // seconds between agent check-ins
	// AllowManualSignUp lets a node join without an access key; such a node
	// is pending until approved.
	AllowManualSignUp bool
	// RequireApproval makes every joining node pending, with or without a key.
	RequireApproval bool
	KeyUpdateAt     time.Time // last keyupdate: nodes with an older key must rotate
	NodesModifiedAt time.Time // last change to any node's peer-relevant state
	ModifiedAt      time.Time // last change to the network's own settings
	CreatedAt       time.Time
	// Revision counts committed changes to the row; replicas apply a change
	// only over an older revision.
	Revision int64
}

// Node is one WireGuard peer of a network. It never holds a private key:
// agents generate their own and publish only the public half. Its password
// hash lives only in the store.
type Node struct {
	ID                  int64
	NetworkID           int64
	GroupID             int64  // the network's group
	Network             string // the network's NetID
	MAC                 string // lowercase, colon separated; the node's id within its network
	Name                string
	PublicKey           string // base64 WireGuard public key
	Endpoint            string // public IP address, empty when unknown (behind NAT)
	ListenPort          int
	LocalAddress        string // LAN address, empty when unknown
	Address             netip.Addr
	Address6            netip.Addr // invalid when the network has no IPv6 range
	PersistentKeepalive int
	Interface           string
	Pending             bool // awaiting approval: no peers, and nobody's peer
	// EgressRanges, when set, make the node an egress gateway: the ranges
	// join its AllowedIPs at every peer.
	EgressRanges    []netip.Prefix
	EgressInterface string
	IsServer        bool // the server's own node (addnetwork)
	OS              string
	Version         string
	KeyUpdateAt     time.Time // when PublicKey last changed
	LastCheckIn     time.Time // zero: never
	CreatedAt       time.Time
	ModifiedAt      time.Time
	Revision        int64
	// OwnerID is the user who enrolled the node: the creator of the access
	// key it joined with, or the user whose credential created it; 0 for
	// nobody (the server's node, a manual sign-up, the master key).
	OwnerID int64
}

// IsEgressGateway reports whether n routes EgressRanges for its peers.
func (n *Node) IsEgressGateway() bool { return len(n.EgressRanges) > 0 }

// AllowedIPs are the prefixes a peer routes to n: its addresses as host
// routes, then its egress ranges.
func (n *Node) AllowedIPs() []netip.Prefix {
	out := make([]netip.Prefix, 0, 2+len(n.EgressRanges))
	if n.Address.IsValid() {
		out = append(out, netip.PrefixFrom(n.Address, 32))
	}
	if n.Address6.IsValid() {
		out = append(out, netip.PrefixFrom(n.Address6, 128))
	}
	return append(out, n.EgressRanges...)
}

// NeedsKeyUpdate reports whether n must rotate its key for net's keyupdate.
func (n *Node) NeedsKeyUpdate(net *Network) bool { return n.KeyUpdateAt.Before(net.KeyUpdateAt) }

// NodeSecrets are a node's stored secrets, never part of Node: the argon2id
// hash of its password (empty: it cannot authenticate by password) and, for
// the server's own node only, its WireGuard private key sealed with the
// server secret.
type NodeSecrets struct {
	PasswordHash string
	ServerKey    []byte
}

// AccessKey is an enrollment key of a network: presenting Value to the join
// endpoint creates a node, consuming one of Uses.
type AccessKey struct {
	ID        int64
	NetworkID int64
	Name      string
	Value     string // in clear only in memory
	Uses      int    // joins left
	ExpiresAt *time.Time
	CreatedBy string // audit actor of the creator
	CreatedAt time.Time
	// OwnerID is the creating user (an API key's creator), 0 for none; the
	// nodes that join with the key belong to that user.
	OwnerID int64
}

// Usable reports whether k may still authorise a join at now.
func (k *AccessKey) Usable(now time.Time) bool {
	return k.Uses > 0 && (k.ExpiresAt == nil || now.Before(*k.ExpiresAt))
}

// SealedAccessKey is an access key as stored: Value is empty and Sealed holds
// it encrypted under the context sealContext(Hash).
type SealedAccessKey struct {
	AccessKey
	Hash   [32]byte
	Sealed []byte
}

// Defaults for new networks and nodes, as Netmaker chose them.
const (
	DefaultListenPort      = 51821
	DefaultKeepalive       = 20
	DefaultCheckInInterval = meshwire.DefaultCheckInInterval
	DefaultKeyUses         = 1
)
