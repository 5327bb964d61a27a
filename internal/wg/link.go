package wg

import (
	"context"
	"fmt"
)

// Link is a node's WireGuard interface. Apply makes the interface match
// a Spec, changing only what differs (peers whose entries are unchanged keep
// their sessions); Close removes the interface.
type Link interface {
	Apply(ctx context.Context, s Spec) error
	Close() error
}

// Mode chooses how the interface is made.
type Mode string

// The modes: kernel WireGuard, WireGuard in this process over TUN, or kernel
// when the module is there and userspace otherwise.
const (
	ModeAuto      Mode = "auto"
	ModeKernel    Mode = "kernel"
	ModeUserspace Mode = "userspace"
)

// ParseMode checks a --wireguard value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeAuto, ModeKernel, ModeUserspace:
		return m, nil
	case "":
		return ModeAuto, nil
	}
	return "", fmt.Errorf("--wireguard must be auto, kernel or userspace, not %q", s)
}
