package meshwire

import "strings"

// The JSON shapes below are the Netmaker dialect's field names (lowercase,
// times as Unix seconds). None of them has a field for a private key, a
// password or an access key value.

// Network is a network as the API and the stream show it.
type Network struct {
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
	// DefaultCheckInInterval is CheckInInterval under the name Netmaker
	// and its web UI of the seed's era read.
	DefaultCheckInInterval int `json:"defaultcheckininterval"`
}

// Node is a node as the API and the stream's "self" show it.
type Node struct {
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

	// The seed era's names (Netmaker v0.2-v0.3 and its web UI), sent
	// alongside the current ones: that UI shows a gateway, and offers to
	// remove it, by isgateway and gatewayrange (the ranges comma-separated),
	// and edits expdatetime. netkeep's nodes do not expire: ExpDateTime is
	// always NeverExpires.
	IsGateway    bool   `json:"isgateway"`
	GatewayRange string `json:"gatewayrange"`
	ExpDateTime  int64  `json:"expdatetime"`
}

// NeverExpires is a node's expdatetime: 9999-12-31T23:59:59Z in Unix
// seconds, a date the era's UI shows as "no expiry" (it clamps later dates
// to its own maximum).
const NeverExpires int64 = 253402300799

// SetEgress sets the gateway fields of n, current and era names alike.
func (n *Node) SetEgress(ranges []string, iface string) {
	n.IsEgressGateway, n.IsGateway = len(ranges) > 0, len(ranges) > 0
	n.EgressGatewayRanges, n.EgressGatewayInterface = ranges, iface
	n.GatewayRange = strings.Join(ranges, ",")
}

// Peer is one entry of a node's peer view: what a WireGuard peer
// configuration needs (public key, endpoint, allowed IPs) and who it is.
// Endpoint is an IP address without port (ListenPort is separate), empty
// when the peer's public address is unknown.
type Peer struct {
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
// fields are set depends on Type (see internal/mesh's package
// documentation for the protocol).
type Message struct {
	Type               string       `json:"type"`
	Seq                uint64       `json:"seq"`
	Network            *Network     `json:"network,omitempty"`
	Self               *Node        `json:"self,omitempty"`
	Mark               int64        `json:"mark,omitempty"`
	Buckets            []SyncBucket `json:"buckets,omitempty"`
	Peers              []Peer       `json:"peers,omitempty"`
	Peer               *Peer        `json:"peer,omitempty"`
	ID                 int64        `json:"id,omitempty"`
	PublicKey          string       `json:"publickey,omitempty"`
	KeyUpdateTimestamp int64        `json:"keyupdatetimestamp,omitempty"`
}

// The message types of the push stream.
const (
	MsgFull      = "full"
	MsgSync      = "sync"
	MsgUpsert    = "upsert"
	MsgRemove    = "remove"
	MsgSelf      = "self"
	MsgNetwork   = "network"
	MsgKeyUpdate = "keyupdate"
)

// The WebSocket close codes with which the server ends a push stream.
const (
	CloseResync      = 4000 // reconnect now: the next full view resynchronises
	CloseNodeDeleted = 4001 // the node was deleted: stop and remove the interface
)

// Defaults and limits both sides agree on.
const (
	// DefaultCheckInInterval is a network's check-in interval in seconds
	// unless set, and what an agent uses while it knows none.
	DefaultCheckInInterval = 30
	// MaxNameLen is the longest node name the server accepts.
	MaxNameLen = 62
)
