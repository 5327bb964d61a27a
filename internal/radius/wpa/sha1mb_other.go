//go:build !amd64

package wpa

// laneWays: multi-buffer SHA-1 exists for amd64 only.
func laneWays() []*laneWay { return nil }
