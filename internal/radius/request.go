package radius

import (
	"bytes"
	"encoding/binary"

	"netkeep/internal/mac"
)

// request is the view of one request the handlers need, filled by one pass
// over the attributes. Slices point into the receive buffer (or into the
// worker's scratch for reassembled values) and live until the next packet.
type request struct {
	code  byte
	id    byte
	auth  []byte
	maOff int // offset of the Message-Authenticator value, 0 if absent

	userName, calling, called, nasID []byte
	nasIP                            []byte

	// The password, still as sent: PAP User-Password (encrypted), or
	// CHAP-Password (identifier and response) with CHAP-Challenge.
	userPassword, chapPassword, chapChallenge []byte

	// Handshake identification.
	ssid, bssid, anonce, eapol []byte
	handshake                  bool
	ciscoPSK                   bool // EasyPSK: answer with the PMK in hex

	// Accounting.
	statusType          uint32
	sessionID           []byte
	framedIP            []byte
	inOctets, outOctets uint64
	inGiga, outGiga     uint64
	sessionTime         uint32
}

// Cisco EasyPSK AV-pairs carrying the handshake (values are raw bytes after
// the prefix).
var (
	ciscoAnonce = []byte("cisco-anonce=")
	ciscoData   = []byte("cisco-8021x-data=")
	ciscoBSSID  = []byte("cisco-bssid=")
	ciscoSSID   = []byte("cisco-wlan-ssid=")
)

// parse fills r from pkt (already wellFormed). scratch receives reassembled
// extended attributes; it returns false for a request that repeats or
// malforms Message-Authenticator.
func (r *request) parse(pkt []byte, scratch []byte) bool {
	*r = request{code: pkt[0], id: pkt[1], auth: pkt[4:20]}
	evsStart, used := -1, 0 // the Extended-Vendor-Specific-5 value being reassembled in scratch
	it := attrs{pkt[headerLen:]}
	for {
		off := len(pkt) - len(it.b)
		typ, val, ok := it.next()
		if !ok {
			break
		}
		switch typ {
		case attrUserName:
			r.userName = val
		case attrCallingStationID:
			r.calling = val
		case attrCalledStationID:
			r.called = val
		case attrNASIdentifier:
			r.nasID = val
		case attrNASIPAddress:
			r.nasIP = val
		case attrUserPassword:
			r.userPassword = val
		case attrCHAPPassword:
			r.chapPassword = val
		case attrCHAPChallenge:
			r.chapChallenge = val
		case attrMessageAuthenticator:
			if len(val) != 16 || r.maOff != 0 {
				return false
			}
			r.maOff = off + 2
		case attrAcctStatusType:
			r.statusType = u32(val)
		case attrAcctSessionID:
			r.sessionID = val
		case attrFramedIPAddress:
			r.framedIP = val
		case attrAcctInputOctets:
			r.inOctets = uint64(u32(val))
		case attrAcctOutputOctets:
			r.outOctets = uint64(u32(val))
		case attrAcctInputGigawords:
			r.inGiga = uint64(u32(val))
		case attrAcctOutputGigawords:
			r.outGiga = uint64(u32(val))
		case attrAcctSessionTime:
			r.sessionTime = u32(val)
		case attrVendorSpecific:
			r.vendorSpecific(val)
		case attrExtendedVS5:
			// RFC 6929 long extended: ext-type, flags (M bit), data; the
			// data of consecutive fragments concatenates.
			if len(val) < 2 || val[0] != evsExtendedType || used+len(val)-2 > len(scratch) {
				evsStart = -1
				continue
			}
			if evsStart < 0 {
				evsStart = used
			}
			used += copy(scratch[used:], val[2:])
			if val[1]&0x80 == 0 {
				r.extendedVendor(scratch[evsStart:used])
				evsStart = -1
			}
		}
	}
	return true
}

func u32(b []byte) uint32 {
	if len(b) != 4 {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

// extendedVendor reads one FreeRADIUS EVS value: vendor, type, data.
func (r *request) extendedVendor(v []byte) {
	if len(v) < 5 || binary.BigEndian.Uint32(v) != vendorFreeRADIUS {
		return
	}
	switch v[4] {
	case frAnonce:
		r.anonce, r.handshake = v[5:], true
	case frEAPOLKeyMsg:
		r.eapol, r.handshake = v[5:], true
	}
}

func (r *request) vendorSpecific(val []byte) {
	vendor, sub, ok := vsa(val)
	if !ok {
		return
	}
	it := subAttrs{sub}
	for {
		typ, v, ok := it.next()
		if !ok {
			return
		}
		switch vendor {
		case vendorRuckus:
			switch typ {
			case ruckusSSID:
				r.ssid = v
			case ruckusBSSID:
				r.bssid = v
			case ruckusDPSKParams:
				r.ruckusDPSK(v)
			}
		case vendorCisco:
			if typ != ciscoAVPair {
				continue
			}
			switch {
			case bytes.HasPrefix(v, ciscoAnonce):
				r.anonce, r.handshake, r.ciscoPSK = v[len(ciscoAnonce):], true, true
			case bytes.HasPrefix(v, ciscoData):
				r.eapol, r.handshake, r.ciscoPSK = v[len(ciscoData):], true, true
			case bytes.HasPrefix(v, ciscoBSSID):
				r.bssid = v[len(ciscoBSSID):]
			case bytes.HasPrefix(v, ciscoSSID):
				r.ssid = v[len(ciscoSSID):]
			}
		}
	}
}

// ruckusDPSK reads the Ruckus-DPSK-Params TLVs.
func (r *request) ruckusDPSK(v []byte) {
	it := subAttrs{v}
	for {
		typ, val, ok := it.next()
		if !ok {
			return
		}
		switch typ {
		case ruckusDPSKAnonce:
			r.anonce, r.handshake = val, true
		case ruckusDPSKFrame:
			r.eapol, r.handshake = val, true
		}
	}
}

// station returns the station's MAC from Calling-Station-Id, else
// User-Name.
func (r *request) station() (MAC, bool) {
	if m, ok := mac.Parse(r.calling); ok {
		return m, true
	}
	return mac.Parse(r.userName)
}

// calledParts splits Called-Station-Id "<BSSID>:<SSID>" (RFC 3580 §3.20);
// the BSSID part is in any MAC format.
func (r *request) calledParts() (bssid MAC, ssid []byte, ok bool) {
	c := r.called
	for _, n := range []int{17, 14, 12} {
		if len(c) > n && c[n] == ':' {
			if m, ok := mac.Parse(c[:n]); ok {
				return m, c[n+1:], true
			}
		}
	}
	if m, ok := mac.Parse(c); ok {
		return m, nil, true
	}
	return 0, nil, false
}

// bssidMAC returns the authenticator address: the vendor's BSSID attribute
// (6 raw bytes or text), else the Called-Station-Id's.
func (r *request) bssidMAC() (MAC, bool) {
	if m, ok := mac.FromBytes(r.bssid); ok {
		return m, true
	}
	if m, ok := mac.Parse(r.bssid); ok {
		return m, true
	}
	m, _, ok := r.calledParts()
	return m, ok
}

// ssidBytes returns the SSID: the vendor's attribute, else the
// Called-Station-Id's.
func (r *request) ssidBytes() []byte {
	if len(r.ssid) > 0 {
		return r.ssid
	}
	_, s, _ := r.calledParts()
	return s
}
