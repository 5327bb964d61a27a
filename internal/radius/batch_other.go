//go:build !linux

package radius

import "net"

// newBatchConn returns the one-datagram reader and writer of c: batched
// system calls are used on Linux only.
func newBatchConn(c *net.UDPConn) batchConn { return newSingleConn(c) }
