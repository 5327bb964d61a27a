package meshwire

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
)

// A view digest is how an agent says, when it reconnects, which view it
// already holds, so the server sends only what differs instead of the whole
// view (which is the network's size for every reconnecting agent, quadratic
// in a reconnect storm).
//
// Peers are spread over ViewBuckets buckets by ID; a bucket's digest is the
// sum (mod 2^64) of PeerDigest of the canonical JSON encoding of each of its
// peers, so both sides maintain it in O(1) per change and it does not depend
// on order. The server compares the agent's digest with its own current
// view, bucket by bucket, and answers with a MsgSync carrying the peers of
// the buckets that differ (none when nothing changed). Nothing needs to
// survive a server restart or agree between replicas: the digest describes
// content, not history, so a restarted server or another replica compares it
// just as well. A bucket whose sum collides by accident is left alone; with
// 64-bit sums of SHA-256 values that takes on the order of 2^64 tries.
//
// The digest travels in the HeaderView request header of the stream's
// WebSocket handshake, as "1." followed by the unpadded base64url encoding
// of the ViewBuckets sums (big-endian): about 2.7 kB. A server that does not
// know the header ignores it and sends a full view.

// ViewBuckets is how many buckets a view digest has.
const ViewBuckets = 256

// HeaderView is the stream request header that carries an agent's view
// digest.
const HeaderView = "X-Netkeep-View"

const digestVersion = "1."

// ViewDigest is a view's digest: one sum per bucket.
type ViewDigest [ViewBuckets]uint64

// BucketOf is the bucket of the peer with id.
func BucketOf(id int64) int { return int(uint64(id) % ViewBuckets) }

// PeerDigest is the digest of one peer's canonical encoding (what the server
// sends for it: encoding/json of Peer).
func PeerDigest(entry []byte) uint64 {
	h := sha256.Sum256(entry)
	return binary.BigEndian.Uint64(h[:8])
}

// DigestOf is PeerDigest of p's canonical encoding.
func DigestOf(p Peer) uint64 {
	b, err := json.Marshal(p)
	if err != nil {
		panic("meshwire: encoding a peer: " + err.Error()) // strings and numbers cannot fail
	}
	return PeerDigest(b)
}

// Add counts a peer with digest d in bucket b.
func (v *ViewDigest) Add(b int, d uint64) { v[b] += d }

// Remove uncounts a peer with digest d in bucket b.
func (v *ViewDigest) Remove(b int, d uint64) { v[b] -= d }

// String is the header encoding.
func (v *ViewDigest) String() string {
	var raw [ViewBuckets * 8]byte
	for i, s := range v {
		binary.BigEndian.PutUint64(raw[i*8:], s)
	}
	return digestVersion + base64.RawURLEncoding.EncodeToString(raw[:])
}

// ParseViewDigest decodes the header encoding.
func ParseViewDigest(s string) (*ViewDigest, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), digestVersion)
	if !ok {
		return nil, errors.New("view digest: unknown version")
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(raw) != ViewBuckets*8 {
		return nil, errors.New("view digest: malformed")
	}
	v := new(ViewDigest)
	for i := range v {
		v[i] = binary.BigEndian.Uint64(raw[i*8:])
	}
	return v, nil
}
