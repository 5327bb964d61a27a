//go:build !linux

package store

import "time"

// onOwnThread runs f; only Linux measures and lowers a single thread.
func onOwnThread(_ bool, f func() error) error { return f() }

// threadCPU is not known here; stepBackup then paces by wall time.
func threadCPU() time.Duration { return 0 }
