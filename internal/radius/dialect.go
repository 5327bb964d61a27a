package radius

import (
	"encoding/hex"
	"strconv"

	"netkeep/internal/radius/nas"
	"netkeep/internal/radius/wpa"
)

// accept answers Access-Accept for g in c's dialect. k is the PMK for the
// request's SSID when one is known (handshake identification, Ruckus).
func (w *worker) accept(c *Client, g Grant, k *wpa.Key, now int64) []byte {
	r := &w.rep
	r.start(w.out[:], codeAccessAccept, w.req.id)
	secret, reqAuth := c.key.secret, w.req.auth
	salt := uint16(w.rng.Uint64())
	pass := g.Cred.Passphrase
	switch {
	case c.Vendor == nas.Cisco && w.req.ciscoPSK && k != nil:
		// EasyPSK: the controller wants the PMK it will use, in hex.
		outer, inner := r.beginVSA(vendorCisco, ciscoAVPair)
		r.b = append(r.b, "psk="...)
		r.b = hex.AppendEncode(r.b, k.PMK[:])
		r.end(outer, inner)
		r.vsaString(vendorCisco, ciscoAVPair, "psk-mode=hex")
	case c.Vendor == nas.Cisco:
		mode := "psk-mode=ascii"
		if g.Cred.hexKey {
			mode = "psk-mode=hex"
		}
		r.vsaString(vendorCisco, ciscoAVPair, mode)
		r.vsaString(vendorCisco, ciscoAVPair, "psk=", pass)
	case c.Vendor == nas.Aruba:
		// Aruba-MPSK-Passphrase: Tunnel-Password encryption without a tag.
		outer, inner := r.beginVSA(vendorAruba, arubaMPSKPassphrase)
		r.b = appendSaltEncrypted(r.b, w.md5, w.tmp[:], secret, reqAuth, saltBytes(salt), []byte(pass))
		r.end(outer, inner)
	case c.Vendor == nas.Ruckus && k != nil:
		// Ruckus DPSK: MS-MPPE-Recv-Key carries the PMK (RFC 2548 §2.4.3).
		outer, inner := r.beginVSA(vendorMicrosoft, msMPPERecvKey)
		r.b = appendSaltEncrypted(r.b, w.md5, w.tmp[:], secret, reqAuth, saltBytes(salt), k.PMK[:])
		r.end(outer, inner)
	default:
		// Meraki, hostapd, generic (and Ruckus without an SSID):
		// Tunnel-Password, tag 0 (RFC 2868 §3.5).
		off := r.beginAttr(attrTunnelPassword)
		r.b = append(r.b, 0)
		r.b = appendSaltEncrypted(r.b, w.md5, w.tmp[:], secret, reqAuth, saltBytes(salt), []byte(pass))
		r.end(off, 0)
	}
	if g.VLAN > 0 {
		// RFC 3580 §3.31: the VLAN as a tunnel of type VLAN (13) over
		// IEEE-802 (6), tag 0.
		r.attrTagged32(attrTunnelType, 0, 13)
		r.attrTagged32(attrTunnelMediumType, 0, 6)
		off := r.beginAttr(attrTunnelPrivateGroupID)
		r.b = strconv.AppendInt(r.b, int64(g.VLAN), 10)
		r.end(off, 0)
	}
	if g.Expires != 0 {
		r.attrUint32(attrSessionTimeout, uint32(max(1, g.Expires-now)))
	}
	return w.finish(c)
}

func saltBytes(s uint16) [2]byte { return [2]byte{byte(s>>8) | 0x80, byte(s)} }
