//go:build !linux

package store

// lowPriority runs f; only Linux lowers a single thread's priority.
func lowPriority(f func() error) error { return f() }
