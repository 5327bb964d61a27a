package radius

import "syscall"

func setReusePort(fd uintptr) error {
	return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
}

// soReusePort is SO_REUSEPORT on Linux (asm-generic/socket.h); the syscall
// package does not name it.
const soReusePort = 0xf
