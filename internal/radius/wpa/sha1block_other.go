//go:build !amd64

package wpa

var hasSHANI = false

func block(h *[5]uint32, p *[64]byte) { blockGeneric(h, p) }

func block2(h1 *[5]uint32, p1 *[64]byte, h2 *[5]uint32, p2 *[64]byte) {
	blockGeneric(h1, p1)
	blockGeneric(h2, p2)
}
