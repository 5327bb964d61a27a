package radius

import (
	"context"
	"net"
	"runtime"
	"syscall"
)

// socketBuffer is the receive and send buffer asked for each socket: a
// burst of requests waiting out a scheduling hiccup must not overflow the
// kernel's default (about 200 small datagrams). The kernel caps it at
// net.core.rmem_max / wmem_max.
const socketBuffer = 4 << 20

// Listen opens the UDP sockets to serve addr with: one per CPU sharing the
// port (SO_REUSEPORT, so the kernel spreads clients over them and readers do
// not contend on one socket), or a single socket where that is not
// available. An address with port 0 gets one socket on a free port.
func Listen(ctx context.Context, addr string) ([]*net.UDPConn, error) {
	n := runtime.GOMAXPROCS(0)
	lc := net.ListenConfig{Control: reusePort}
	first, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		// No SO_REUSEPORT here: one plain socket.
		c, err2 := net.ListenPacket("udp", addr)
		if err2 != nil {
			return nil, err
		}
		return []*net.UDPConn{tune(c.(*net.UDPConn))}, nil
	}
	conns := []*net.UDPConn{tune(first.(*net.UDPConn))}
	if _, port, _ := net.SplitHostPort(addr); port == "0" {
		return conns, nil
	}
	bound := first.LocalAddr().String()
	for len(conns) < n {
		c, err := lc.ListenPacket(ctx, "udp", bound)
		if err != nil {
			break // serve with what we have
		}
		conns = append(conns, tune(c.(*net.UDPConn)))
	}
	return conns, nil
}

func tune(c *net.UDPConn) *net.UDPConn {
	_ = c.SetReadBuffer(socketBuffer)
	_ = c.SetWriteBuffer(socketBuffer)
	return c
}

func reusePort(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) { serr = setReusePort(fd) })
	if err != nil {
		return err
	}
	return serr
}
