package radius

import "encoding/binary"

// Packet codes (RFC 2865, 2866, 5997).
const (
	codeAccessRequest      = 1
	codeAccessAccept       = 2
	codeAccessReject       = 3
	codeAccountingRequest  = 4
	codeAccountingResponse = 5
	codeStatusServer       = 12
)

// Attribute types used here.
const (
	attrUserName             = 1
	attrUserPassword         = 2
	attrCHAPPassword         = 3
	attrNASIPAddress         = 4
	attrFramedIPAddress      = 8
	attrReplyMessage         = 18
	attrVendorSpecific       = 26
	attrSessionTimeout       = 27
	attrCalledStationID      = 30
	attrCallingStationID     = 31
	attrNASIdentifier        = 32
	attrAcctStatusType       = 40
	attrAcctInputOctets      = 42
	attrAcctOutputOctets     = 43
	attrAcctSessionID        = 44
	attrAcctSessionTime      = 46
	attrAcctInputGigawords   = 52
	attrAcctOutputGigawords  = 53
	attrCHAPChallenge        = 60
	attrTunnelType           = 64
	attrTunnelMediumType     = 65
	attrTunnelPassword       = 69
	attrMessageAuthenticator = 80
	attrTunnelPrivateGroupID = 81
	attrExtendedVS5          = 245
)

// Vendors and their attributes.
const (
	vendorCisco      = 9
	vendorMicrosoft  = 311
	vendorAruba      = 14823
	vendorRuckus     = 25053
	vendorFreeRADIUS = 11344

	ciscoAVPair         = 1
	msMPPERecvKey       = 17
	arubaMPSKPassphrase = 44
	ruckusSSID          = 3
	ruckusBSSID         = 14
	// Ruckus-DPSK-Params, a TLV (FreeRADIUS's dictionary.ruckus, and what
	// Ruckus APs send for external DPSK). 152 is Ruckus-AAA-Id, a string:
	// an early rlm_dpsk read the parameters from 152, but equipment that
	// sends 152 means its own AAA id, so it is not parsed.
	ruckusDPSKParams = 153
	ruckusDPSKAnonce = 3
	ruckusDPSKFrame  = 4
	frAnonce         = 1
	frEAPOLKeyMsg    = 2
	evsExtendedType  = 26
)

const (
	headerLen    = 20
	maxPacketLen = 4096
)

// attrs walks the attributes of a packet already checked by wellFormed.
type attrs struct{ b []byte }

// next returns the next attribute, or ok false at the end.
func (a *attrs) next() (typ byte, val []byte, ok bool) {
	if len(a.b) < 2 {
		return 0, nil, false
	}
	n := int(a.b[1])
	if n < 2 || n > len(a.b) {
		return 0, nil, false
	}
	typ, val = a.b[0], a.b[2:n]
	a.b = a.b[n:]
	return typ, val, true
}

// wellFormed checks the header and that the attributes tile the packet
// exactly, returning the packet cut to its Length (bytes past it are
// padding, RFC 2865 §3). It does not allocate.
func wellFormed(b []byte) ([]byte, bool) {
	if len(b) < headerLen {
		return nil, false
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n < headerLen || n > len(b) || n > maxPacketLen {
		return nil, false
	}
	b = b[:n]
	for rest := b[headerLen:]; len(rest) > 0; {
		if len(rest) < 2 || rest[1] < 2 || int(rest[1]) > len(rest) {
			return nil, false
		}
		rest = rest[rest[1]:]
	}
	return b, true
}

// vsa splits a Vendor-Specific value into vendor id and its sub-attributes.
func vsa(val []byte) (vendor uint32, sub []byte, ok bool) {
	if len(val) < 4 {
		return 0, nil, false
	}
	return binary.BigEndian.Uint32(val), val[4:], true
}

// subAttrs walks RFC 2865 style vendor sub-attributes (1-byte type and
// length); a malformed tail ends the walk.
type subAttrs = attrs
