//go:build !linux

package radius

import "errors"

func setReusePort(uintptr) error { return errors.New("SO_REUSEPORT not used on this platform") }
