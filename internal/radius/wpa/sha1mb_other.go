//go:build !amd64

package wpa

// laneWays: multi-buffer SHA-1 exists for amd64 only.
func laneWays() []*laneWay { return nil }

// pbkdf2x16: none (AVX-512 only).
var pbkdf2x16 func(*pbkdf2Lanes, int)

func lanes16Way() *laneWay { return nil }
