package radius

import "encoding/binary"

// reply builds a response packet in a caller-owned buffer. The
// Message-Authenticator is always the first attribute (RFC 3579 §3.2,
// BlastRADIUS): start reserves it and sign fills it in.
type reply struct {
	b     []byte
	maOff int
	full  bool // an attribute did not fit; the reply must not be sent as is
}

func (r *reply) start(buf []byte, code, id byte) {
	r.b = append(buf[:0], code, id, 0, 0)
	r.b = append(r.b, zeroAuthenticator[:]...)
	r.b = append(r.b, attrMessageAuthenticator, 18)
	r.maOff = len(r.b)
	r.b = append(r.b, zeroAuthenticator[:]...)
	r.full = false
}

// room reports whether n more bytes fit in a packet.
func (r *reply) room(n int) bool {
	if len(r.b)+n > maxPacketLen {
		r.full = true
		return false
	}
	return true
}

func (r *reply) attrString(typ byte, s string) {
	if len(s) > 253 || !r.room(2+len(s)) {
		r.full = true
		return
	}
	r.b = append(r.b, typ, byte(2+len(s)))
	r.b = append(r.b, s...)
}

func (r *reply) attrUint32(typ byte, v uint32) {
	if !r.room(6) {
		return
	}
	r.b = append(r.b, typ, 6)
	r.b = binary.BigEndian.AppendUint32(r.b, v)
}

// attrTagged32 is an RFC 2868 tagged integer: tag in the first byte, the
// value in the other three.
func (r *reply) attrTagged32(typ, tag byte, v uint32) {
	if !r.room(6) {
		return
	}
	r.b = append(r.b, typ, 6, tag, byte(v>>16), byte(v>>8), byte(v))
}

// beginAttr opens an attribute whose value the caller appends to r.b; end
// closes it. It returns the attribute's offset.
func (r *reply) beginAttr(typ byte) int {
	off := len(r.b)
	r.b = append(r.b, typ, 0)
	return off
}

// beginVSA opens Vendor-Specific(vendor) with one sub-attribute vtype.
func (r *reply) beginVSA(vendor uint32, vtype byte) (outer, inner int) {
	outer = r.beginAttr(attrVendorSpecific)
	r.b = binary.BigEndian.AppendUint32(r.b, vendor)
	inner = len(r.b)
	r.b = append(r.b, vtype, 0)
	return outer, inner
}

// end sets the length of the attribute at off (and of a vendor
// sub-attribute at inner when inner > 0).
func (r *reply) end(off, inner int) {
	n := len(r.b) - off
	if n > 255 || len(r.b) > maxPacketLen {
		r.full = true
		r.b = r.b[:off]
		return
	}
	r.b[off+1] = byte(n)
	if inner > 0 {
		r.b[inner+1] = byte(len(r.b) - inner)
	}
}

func (r *reply) vsaString(vendor uint32, vtype byte, parts ...string) {
	outer, inner := r.beginVSA(vendor, vtype)
	for _, p := range parts {
		r.b = append(r.b, p...)
	}
	r.end(outer, inner)
}

// finish sets the Length field and returns the packet.
func (r *reply) finish() []byte {
	binary.BigEndian.PutUint16(r.b[2:4], uint16(len(r.b)))
	return r.b
}
