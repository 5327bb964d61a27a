package vpnconfig

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// WireGuardClient is a wg-quick configuration for one client of a WireGuard
// gateway. PrivateKey is the client's own (NewWireGuardKey): the service
// keeps it only sealed, and the gateway needs only the public key.
type WireGuardClient struct {
	Comment       string
	PrivateKey    wgtypes.Key
	Address       netip.Prefix // the client's tunnel address, e.g. 10.8.0.2/32
	DNS           []netip.Addr
	PeerPublicKey wgtypes.Key // the gateway's
	Endpoint      string      // the gateway's hostname or address
	Port          int
	AllowedIPs    []netip.Prefix // what the tunnel carries; empty is an error
	// PersistentKeepalive in seconds; 0 leaves it out (25 keeps NAT
	// mappings of clients behind NAT alive).
	PersistentKeepalive int
}

// NewWireGuardKey returns a fresh Curve25519 private key.
func NewWireGuardKey() (wgtypes.Key, error) { return wgtypes.GeneratePrivateKey() }

// Render writes the wg-quick file.
func (c WireGuardClient) Render() ([]byte, error) {
	var zero wgtypes.Key
	switch {
	case c.PrivateKey == zero:
		return nil, fmt.Errorf("private key is required")
	case c.PeerPublicKey == zero:
		return nil, fmt.Errorf("the gateway's public key is required")
	case !c.Address.IsValid():
		return nil, fmt.Errorf("address is required")
	case len(c.AllowedIPs) == 0:
		return nil, fmt.Errorf("allowed IPs are required")
	case c.PersistentKeepalive < 0 || c.PersistentKeepalive > 65535:
		return nil, fmt.Errorf("persistent keepalive %d is out of range", c.PersistentKeepalive)
	}
	if err := checkRemote(c.Endpoint, c.Port); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := comment(&b, c.Comment); err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "[Interface]\nPrivateKey = %s\nAddress = %s\n", c.PrivateKey, c.Address)
	if len(c.DNS) > 0 {
		b.WriteString("DNS = " + join(c.DNS) + "\n")
	}
	fmt.Fprintf(&b, "\n[Peer]\nPublicKey = %s\nEndpoint = %s\nAllowedIPs = %s\n",
		c.PeerPublicKey, net.JoinHostPort(c.Endpoint, strconv.Itoa(c.Port)), join(c.AllowedIPs))
	if c.PersistentKeepalive > 0 {
		fmt.Fprintf(&b, "PersistentKeepalive = %d\n", c.PersistentKeepalive)
	}
	return b.Bytes(), nil
}

func join[T fmt.Stringer](list []T) string {
	var b bytes.Buffer
	for i, v := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v.String())
	}
	return b.String()
}
