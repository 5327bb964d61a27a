package radius

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"net/netip"
	"testing"
	"time"
)

func TestDedup(t *testing.T) {
	k1 := dedupKey{addr: netip.MustParseAddrPort("192.0.2.10:40000"), id: 7, auth: [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}}
	// k2 differs from k1 but has the same 64-bit hash.
	k2 := k1
	x := uint64(0xdeadbeef12345678)
	binary.LittleEndian.PutUint64(k2.auth[:8], binary.LittleEndian.Uint64(k1.auth[:8])^x)
	binary.LittleEndian.PutUint64(k2.auth[8:], binary.LittleEndian.Uint64(k1.auth[8:])^bits.RotateLeft64(x, -31))
	if k1.hash() != k2.hash() || k1 == k2 {
		t.Fatal("test keys do not collide")
	}
	resp1, resp2 := []byte("response one"), []byte("response two")
	buf := make([]byte, 64)
	now := time.Now().UnixNano()

	t.Run("retransmission/same response", func(t *testing.T) {
		d := newDedup(5 * time.Second)
		if r, busy := d.begin(&k1, now, buf); r != nil || busy {
			t.Fatal("a new request is a duplicate")
		}
		if r, busy := d.begin(&k1, now, buf); r != nil || !busy {
			t.Fatal("a request being worked on is not reported in progress")
		}
		d.finish(&k1, resp1)
		if r, _ := d.begin(&k1, now, buf); !bytes.Equal(r, resp1) {
			t.Fatalf("retransmission got %q", r)
		}
	})
	t.Run("hash collision/never another's response", func(t *testing.T) {
		d := newDedup(5 * time.Second)
		d.begin(&k1, now, buf)
		d.finish(&k1, resp1)
		if r, busy := d.begin(&k2, now, buf); r != nil || busy {
			t.Fatalf("colliding request got %q (in progress %v)", r, busy)
		}
		d.finish(&k2, resp2)
		if r, _ := d.begin(&k1, now, buf); !bytes.Equal(r, resp1) {
			t.Fatalf("first request's retransmission got %q after a collision", r)
		}
	})
	t.Run("no answer/forgotten", func(t *testing.T) {
		d := newDedup(5 * time.Second)
		d.begin(&k1, now, buf)
		d.finish(&k1, nil)
		if r, busy := d.begin(&k1, now, buf); r != nil || busy {
			t.Fatal("an unanswered request is remembered")
		}
	})
	t.Run("window/expires after two generations", func(t *testing.T) {
		d := newDedup(5 * time.Second)
		d.begin(&k1, now, buf)
		d.finish(&k1, resp1)
		if r, _ := d.begin(&k1, now+int64(3*time.Second), buf); !bytes.Equal(r, resp1) {
			t.Fatal("forgotten within the window")
		}
		if r, busy := d.begin(&k1, now+int64(6*time.Second), buf); r != nil || busy {
			t.Fatal("remembered after two generations")
		}
	})
}
