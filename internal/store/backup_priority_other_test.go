//go:build !linux

package store

import "fmt"

// reportPriority: only Linux lowers a backup child's threads.
func reportPriority() int {
	fmt.Println("error", "thread priorities are lowered on Linux only")
	return 1
}
