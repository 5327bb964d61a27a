package radius

import (
	"net/netip"
	"slices"

	"netkeep/internal/radius/nas"
)

// Client is a NAS as the packet path sees it: immutable, replaced on change.
type Client struct {
	ID        int64
	GroupID   int64
	Name      string
	Vendor    nas.Vendor
	RequireMA bool
	// MACPassword is what MAC-authentication requests must carry as their
	// password; fixed is the password of nas.MACPasswordFixed.
	MACPassword nas.MACPasswordMode
	fixed       []byte
	key         *sharedSecret
}

func newClient(c *nas.Client) *Client {
	return &Client{ID: c.ID, GroupID: c.GroupID, Name: c.Name, Vendor: c.Vendor,
		RequireMA: c.RequireMessageAuthenticator, MACPassword: c.MACPassword, fixed: []byte(c.FixedMACPassword),
		key: newSharedSecret([]byte(c.Secret))}
}

// clientTable finds the client of a source address: an exact address
// first, then the longest matching prefix. It is immutable.
type clientTable struct {
	exact map[netip.Addr]*Client
	v4    []prefixLevel // longest first
	v6    []prefixLevel
	count int
}

type prefixLevel struct {
	bits int
	m    map[netip.Prefix]*Client
}

func newClientTable(cs []*nas.Client) *clientTable {
	t := &clientTable{exact: map[netip.Addr]*Client{}, count: len(cs)}
	levels := map[bool]map[int]map[netip.Prefix]*Client{true: {}, false: {}}
	for _, c := range cs {
		// Source addresses are looked up unmapped: key 4-in-6 prefixes
		// (::ffff:a.b.c.d) by their IPv4 form, whatever the caller stored.
		p := c.Prefix
		if !p.IsValid() {
			continue
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				continue
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		rc := newClient(c)
		if p.IsSingleIP() {
			t.exact[p.Addr()] = rc
			continue
		}
		byBits := levels[p.Addr().Is4()]
		if byBits[p.Bits()] == nil {
			byBits[p.Bits()] = map[netip.Prefix]*Client{}
		}
		byBits[p.Bits()][p.Masked()] = rc
	}
	for is4, byBits := range levels {
		var ls []prefixLevel
		for bits, m := range byBits {
			ls = append(ls, prefixLevel{bits: bits, m: m})
		}
		slices.SortFunc(ls, func(a, b prefixLevel) int { return b.bits - a.bits })
		if is4 {
			t.v4 = ls
		} else {
			t.v6 = ls
		}
	}
	return t
}

// lookup returns the client for addr, or nil. It does not allocate.
func (t *clientTable) lookup(addr netip.Addr) *Client {
	addr = addr.Unmap()
	if c := t.exact[addr]; c != nil {
		return c
	}
	levels := t.v6
	if addr.Is4() {
		levels = t.v4
	}
	for _, l := range levels {
		p, err := addr.Prefix(l.bits)
		if err != nil {
			continue
		}
		if c := l.m[p]; c != nil {
			return c
		}
	}
	return nil
}
