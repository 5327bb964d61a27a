//go:build !linux

package wg

import (
	"errors"
	"log/slog"
)

var errLinuxOnly = errors.New("netkeep configures WireGuard interfaces on Linux only")

// OpenLink fails: interfaces are configured on Linux only.
func OpenLink(name string, mode Mode, log *slog.Logger) (Link, error) { return nil, errLinuxOnly }

// RemoveInterface fails: interfaces are configured on Linux only.
func RemoveInterface(name string) error { return errLinuxOnly }
