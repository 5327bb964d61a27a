//go:build amd64

package wpa

// hasSHANI reports whether the CPU has the SHA extensions (and the SSE
// levels the generated code uses). A variable so that benchmarks can
// measure without them.
var hasSHANI = detectSHANI()

func detectSHANI() bool {
	if maxLeaf, _, _, _ := cpuid(0, 0); maxLeaf < 7 {
		return false
	}
	_, _, c1, _ := cpuid(1, 0)
	_, b7, _, _ := cpuid(7, 0)
	const ssse3, sse41, sha = 1 << 9, 1 << 19, 1 << 29
	return c1&ssse3 != 0 && c1&sse41 != 0 && b7&sha != 0
}

//go:noescape
func blockSHANI(h *[5]uint32, p *[64]byte)

//go:noescape
func block2SHANI(h1 *[5]uint32, p1 *[64]byte, h2 *[5]uint32, p2 *[64]byte)

func cpuid(leaf, sub uint32) (a, b, c, d uint32)

// block compresses p into h.
func block(h *[5]uint32, p *[64]byte) {
	if hasSHANI {
		blockSHANI(h, p)
		return
	}
	blockGeneric(h, p)
}

// block2 compresses p1 into h1 and p2 into h2, interleaved where the CPU
// allows.
func block2(h1 *[5]uint32, p1 *[64]byte, h2 *[5]uint32, p2 *[64]byte) {
	if hasSHANI {
		block2SHANI(h1, p1, h2, p2)
		return
	}
	blockGeneric(h1, p1)
	blockGeneric(h2, p2)
}
