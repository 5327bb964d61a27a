package radius

import (
	"errors"
	"net"
	"net/netip"
)

// batchSize is the most datagrams one system call reads or writes. Under
// load a socket's queue holds many requests, and moving them 32 at a time
// (recvmmsg / sendmmsg on Linux) spends one kernel entry and one netpoller
// round where reading them one by one spends 32; when the queue is short
// a call simply returns fewer.
const batchSize = 32

// batchConn moves datagrams in batches through fixed buffers that it owns,
// so the packet path allocates nothing for I/O. One goroutine uses it.
type batchConn interface {
	// recv waits for at least one datagram and returns how many it read;
	// datagram(i) then returns the i-th and its sender, valid until the
	// next recv.
	recv() (int, error)
	datagram(i int) ([]byte, netip.AddrPort)
	// replyBuf is where reply j of the current batch is to be built
	// (maxPacketLen bytes); reply queues it, to the sender of datagram i;
	// flush sends the first n queued replies.
	replyBuf(j int) []byte
	reply(j, i int, resp []byte)
	flush(n int) error
}

// singleConn is a batchConn of one datagram per system call, through the
// net package: the fallback where batched calls are not available.
type singleConn struct {
	conn *net.UDPConn
	in   []byte
	n    int
	from netip.AddrPort
	out  []byte
	resp []byte
	to   netip.AddrPort
}

func newSingleConn(c *net.UDPConn) *singleConn {
	return &singleConn{conn: c, in: make([]byte, maxPacketLen), out: make([]byte, maxPacketLen)}
}

func (s *singleConn) recv() (int, error) {
	n, addr, err := s.conn.ReadFromUDPAddrPort(s.in)
	if err != nil {
		return 0, err
	}
	s.n, s.from = n, addr
	return 1, nil
}

func (s *singleConn) datagram(int) ([]byte, netip.AddrPort) { return s.in[:s.n], s.from }

func (s *singleConn) replyBuf(int) []byte { return s.out }

func (s *singleConn) reply(_, _ int, resp []byte) { s.resp, s.to = resp, s.from }

func (s *singleConn) flush(n int) error {
	if n == 0 {
		return nil
	}
	_, err := s.conn.WriteToUDPAddrPort(s.resp, s.to)
	return err
}

// serveBatches answers the datagrams of c until it is closed: each batch
// read is answered in one batched write, each reply built in its own slot
// of c's buffers by the same goroutine (no hand-off between goroutines but
// for handshake searches).
func (w *worker) serveBatches(conn *net.UDPConn, c batchConn, auth bool) error {
	for {
		n, err := c.recv()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return net.ErrClosed
			}
			w.s.log.Warn("RADIUS read", "error", err)
			continue
		}
		m := 0
		for i := range n {
			pkt, from := c.datagram(i)
			if !from.IsValid() {
				continue
			}
			w.out = c.replyBuf(m)
			if resp := w.packet(conn, from, pkt, auth); resp != nil {
				c.reply(m, i, resp)
				m++
			}
		}
		if err := c.flush(m); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return net.ErrClosed
			}
			// UDP: an answer that cannot be sent is lost, and the NAS
			// retransmits.
			w.s.log.Debug("RADIUS write", "error", err)
		}
	}
}
