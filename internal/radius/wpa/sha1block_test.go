package wpa

import (
	"crypto/sha1"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// sha1Of hashes msg with block, padding it as SHA-1 does.
func sha1Of(msg []byte, compress func(h *[5]uint32, p *[64]byte)) [20]byte {
	padded := append([]byte(nil), msg...)
	padded = append(padded, 0x80)
	for len(padded)%64 != 56 {
		padded = append(padded, 0)
	}
	padded = binary.BigEndian.AppendUint64(padded, uint64(len(msg))*8)
	h := sha1IV
	for i := 0; i < len(padded); i += 64 {
		compress(&h, (*[64]byte)(padded[i:]))
	}
	var out [20]byte
	putDigest(out[:], &h)
	return out
}

// Every implementation of the compression agrees with crypto/sha1, on
// lengths around the block boundaries; the two-stream one also when its
// streams differ.
func TestBlockMatchesCryptoSHA1(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	impls := map[string]func(h *[5]uint32, p *[64]byte){
		"generic":  blockGeneric,
		"dispatch": block,
		"two streams, first": func(h *[5]uint32, p *[64]byte) {
			h2, p2 := *h, *p
			p2[3] ^= 0xff
			block2(h, p, &h2, &p2)
		},
		"two streams, second": func(h *[5]uint32, p *[64]byte) {
			h1, p1 := *h, *p
			p1[7] ^= 0xff
			block2(&h1, &p1, h, p)
		},
	}
	for name, impl := range impls {
		t.Run(name, func(t *testing.T) {
			for n := range 300 {
				msg := make([]byte, n)
				for i := range msg {
					msg[i] = byte(rng.Uint32())
				}
				if got, want := sha1Of(msg, impl), sha1.Sum(msg); got != want {
					t.Fatalf("length %d: %x, want %x", n, got, want)
				}
			}
		})
	}
	t.Logf("SHA extensions in use: %v", hasSHANI)
}

func BenchmarkBlock(b *testing.B) {
	var p [64]byte
	h := sha1IV
	b.Run("generic", func(b *testing.B) {
		for b.Loop() {
			blockGeneric(&h, &p)
		}
	})
	b.Run("dispatch", func(b *testing.B) {
		for b.Loop() {
			block(&h, &p)
		}
	})
	b.Run("two-streams-per-block", func(b *testing.B) {
		h2 := h
		for b.Loop() {
			block2(&h, &p, &h2, &p)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/block")
	})
}
