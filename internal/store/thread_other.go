//go:build !linux

package store

import (
	"os"
	"syscall"
	"time"
)

// onOwnThread runs f; only Linux measures a single thread.
func onOwnThread(f func() error) error { return f() }

// threadCPU is not known here; stepBackup then paces by wall time.
func threadCPU() time.Duration { return 0 }

// lowerPriority is Linux's only: elsewhere a backup child runs at the
// priority it was started with.
func lowerPriority() error { return nil }

// startWriteback is Linux's only: elsewhere the final sync writes the copy.
func startWriteback(*os.File) {}

// dropCache is Linux's only.
func dropCache(string) {}

// childProcAttr sets nothing here.
func childProcAttr() *syscall.SysProcAttr { return nil }
