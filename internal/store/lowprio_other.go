//go:build !linux

package store

import "time"

// lowPriority runs f; only Linux lowers a single thread's priority.
func lowPriority(f func() error) error { return f() }

// threadCPU is not known here; stepBackup then paces by wall time.
func threadCPU() time.Duration { return 0 }
