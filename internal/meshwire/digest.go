package meshwire

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// A view digest is how an agent says, when it reconnects, which view it
// already holds, so the server sends only what differs instead of the whole
// view (which is the network's size for every reconnecting agent, quadratic
// in a reconnect storm).
//
// Peers are spread over ViewBuckets buckets by ID; a bucket's sum is the
// sum (mod 2^64) of PeerDigest of the canonical JSON encoding of each of its
// peers, so both sides maintain it in O(1) per change and it does not depend
// on order. The digest also carries the view's mark: the server's
// modification time of the newest change the view's first message included
// (0: unknown). The server compares the agent's sums with its own view,
// bucket by bucket, and answers with a MsgSync listing, for each bucket that
// differs, its sum and the IDs of its peers (so the agent drops those gone),
// and the peers of those buckets modified since shortly before the mark;
// the agent then checks every listed bucket's sum and, should one differ
// (a change stamped by a clock far behind), forgets the mark, so its next
// reconnection gets those buckets' peers whole. Nothing needs to survive a
// server restart or agree between replicas: the sums describe content, not
// history, and the mark is a node's stored modification time. A bucket whose
// sum collides by accident is left alone; with 64-bit sums of SHA-256
// values that takes on the order of 2^64 tries.
//
// The digest travels in the HeaderView request header of the stream's
// WebSocket handshake, as "1.<mark>." followed by the unpadded base64url
// encoding of the ViewBuckets sums (big-endian): about 2.7 kB. A server
// that does not know the header ignores it and sends a full view.

// ViewBuckets is how many buckets a view digest has.
const ViewBuckets = 256

// HeaderView is the stream request header that carries an agent's view
// digest.
const HeaderView = "X-Netkeep-View"

const digestVersion = "1."

// BucketSums are a view's bucket sums.
type BucketSums [ViewBuckets]uint64

// ViewDigest is a view's digest: its bucket sums and its mark (Unix
// microseconds; 0 when unknown).
type ViewDigest struct {
	Mark int64
	Sums BucketSums
}

// SyncBucket is one bucket of a MsgSync: its sum on the server and the IDs
// of every peer in it.
type SyncBucket struct {
	Bucket int     `json:"bucket"`
	Sum    uint64  `json:"sum"`
	IDs    []int64 `json:"ids"`
}

// MarkMargin is how long before an agent's mark the server still resends
// peers of a bucket that differs: changes stamped by replicas' clocks
// slightly behind are included; anything further off is caught by the
// bucket's sum.
const MarkMargin = 2 * time.Second

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
func (v *BucketSums) Add(b int, d uint64) { v[b] += d }

// Remove uncounts a peer with digest d in bucket b.
func (v *BucketSums) Remove(b int, d uint64) { v[b] -= d }

// String is the header encoding.
func (v *ViewDigest) String() string {
	var raw [ViewBuckets * 8]byte
	for i, s := range v.Sums {
		binary.BigEndian.PutUint64(raw[i*8:], s)
	}
	return digestVersion + strconv.FormatInt(v.Mark, 10) + "." + base64.RawURLEncoding.EncodeToString(raw[:])
}

// ParseViewDigest decodes the header encoding.
func ParseViewDigest(s string) (*ViewDigest, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), digestVersion)
	if !ok {
		return nil, errors.New("view digest: unknown version")
	}
	mark, sums, ok := strings.Cut(rest, ".")
	if !ok {
		return nil, errors.New("view digest: malformed")
	}
	v := new(ViewDigest)
	var err error
	if v.Mark, err = strconv.ParseInt(mark, 10, 64); err != nil || v.Mark < 0 {
		return nil, errors.New("view digest: malformed mark")
	}
	raw, err := base64.RawURLEncoding.DecodeString(sums)
	if err != nil || len(raw) != ViewBuckets*8 {
		return nil, errors.New("view digest: malformed")
	}
	for i := range v.Sums {
		v.Sums[i] = binary.BigEndian.Uint64(raw[i*8:])
	}
	return v, nil
}
