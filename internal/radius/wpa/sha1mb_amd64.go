//go:build amd64

package wpa

import "golang.org/x/sys/cpu"

//go:noescape
func matchAVX512(keys *Key, sched *uint32, nframe int, mic *[4]uint32, out *[4][16]uint32) uint16

//go:noescape
func pbkdf2AVX512(st *pbkdf2Lanes, n int)

// pbkdf2x16 iterates 16 PBKDF2 chains at once; nil without AVX-512.
var pbkdf2x16 = func() func(*pbkdf2Lanes, int) {
	if cpu.X86.HasAVX512F {
		return pbkdf2AVX512
	}
	return nil
}()

// lanes16Way is the 16-lane search way.
func lanes16Way() *laneWay { return &avx512Way }

//go:noescape
func matchAVX2(keys *Key, sched *uint32, nframe int, mic *[4]uint32, out *[4][16]uint32) uint8

var (
	avx512Way = laneWay{name: "avx512x16", lanes: 16, match: func(v *Verifier, keys []Key, out *[4][16]uint32) uint32 {
		return uint32(matchAVX512(&keys[:16][0], &v.sched[0], v.nblocks, &v.mic, out))
	}}
	avx2Way = laneWay{name: "avx2x8", lanes: 8, match: func(v *Verifier, keys []Key, out *[4][16]uint32) uint32 {
		return uint32(matchAVX2(&keys[:8][0], &v.sched[0], v.nblocks, &v.mic, out))
	}}
)

// laneWays are the multi-buffer ways the CPU and OS support (cpu checks
// that the OS saves the vector registers). The AVX-512 code uses only
// AVX512F instructions on ZMM registers.
func laneWays() []*laneWay {
	var ws []*laneWay
	if cpu.X86.HasAVX512F {
		ws = append(ws, &avx512Way)
	}
	if cpu.X86.HasAVX2 {
		ws = append(ws, &avx2Way)
	}
	return ws
}
