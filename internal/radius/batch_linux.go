package radius

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgConn is a batchConn over recvmmsg(2) and sendmmsg(2), waiting in the
// netpoller through the socket's RawConn. It does its own system calls
// rather than use golang.org/x/net/ipv4's ReadBatch and WriteBatch because
// those allocate a net.UDPAddr per datagram, which the packet path must
// not. Sender addresses are kept as raw sockaddrs and copied to the reply's
// header as they are, so no conversion happens on the way back either.
type mmsgConn struct {
	rc   syscall.RawConn
	last int // datagrams the previous recv returned, whose headers need a reset

	in      [batchSize]unix.Mmsghdr
	inIov   [batchSize]unix.Iovec
	inName  [batchSize][unix.SizeofSockaddrInet6]byte
	inBuf   [batchSize][]byte
	out     [batchSize]unix.Mmsghdr
	outIov  [batchSize]unix.Iovec
	outName [batchSize][unix.SizeofSockaddrInet6]byte
	outBuf  [batchSize][]byte

	// The functions given to the RawConn, bound once: a closure capturing
	// the call's variables would be allocated on every batch. They take
	// their arguments from and leave their results in these fields; only
	// the goroutine using the conn touches them.
	recvFn, sendFn func(fd uintptr) bool
	sendFrom       int // first reply sendFn sends
	sendTo         int // one past the last
	sysN           int // the system call's result
	sysErr         syscall.Errno
}

// newBatchConn returns the batched reader and writer of c, or the
// one-datagram fallback when c exposes no raw connection.
func newBatchConn(c *net.UDPConn) batchConn {
	rc, err := c.SyscallConn()
	if err != nil {
		return newSingleConn(c)
	}
	return newMmsgConn(rc)
}

func newMmsgConn(rc syscall.RawConn) *mmsgConn {
	m := &mmsgConn{rc: rc, last: batchSize}
	m.recvFn, m.sendFn = m.recvmmsg, m.sendmmsg
	for i := range batchSize {
		m.inBuf[i] = make([]byte, maxPacketLen)
		m.inIov[i].Base = &m.inBuf[i][0]
		m.inIov[i].SetLen(maxPacketLen)
		m.in[i].Hdr.Iov = &m.inIov[i]
		m.in[i].Hdr.SetIovlen(1)
		m.in[i].Hdr.Name = &m.inName[i][0]

		m.outBuf[i] = make([]byte, maxPacketLen)
		m.outIov[i].Base = &m.outBuf[i][0]
		m.out[i].Hdr.Iov = &m.outIov[i]
		m.out[i].Hdr.SetIovlen(1)
		m.out[i].Hdr.Name = &m.outName[i][0]
	}
	return m
}

func (m *mmsgConn) recv() (int, error) {
	for i := range m.last {
		m.in[i].Hdr.Namelen = unix.SizeofSockaddrInet6
		m.in[i].Hdr.Flags = 0
		m.in[i].Len = 0
	}
	if err := m.rc.Read(m.recvFn); err != nil {
		return 0, err
	}
	if m.sysErr != 0 {
		m.last = batchSize // the kernel may have written to any header
		return 0, m.sysErr
	}
	m.last = m.sysN
	return m.sysN, nil
}

// recvmmsg is recvFn: false (wait in the netpoller until readable) while
// the socket has nothing.
func (m *mmsgConn) recvmmsg(fd uintptr) bool {
	for {
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&m.in[0])), batchSize, 0, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		m.sysN, m.sysErr = int(r), e
		return true
	}
}

// datagram returns datagram i and its sender; an address family other than
// IPv4 or IPv6 gives an invalid AddrPort. IPv6 zones are not kept (NAS
// clients are matched by address alone).
func (m *mmsgConn) datagram(i int) ([]byte, netip.AddrPort) {
	b := m.inBuf[i][:min(int(m.in[i].Len), maxPacketLen)]
	sa := &m.inName[i]
	port := binary.BigEndian.Uint16(sa[2:4])
	switch binary.NativeEndian.Uint16(sa[0:2]) {
	case unix.AF_INET:
		return b, netip.AddrPortFrom(netip.AddrFrom4([4]byte(sa[4:8])), port)
	case unix.AF_INET6:
		return b, netip.AddrPortFrom(netip.AddrFrom16([16]byte(sa[8:24])), port)
	}
	return b, netip.AddrPort{}
}

func (m *mmsgConn) replyBuf(j int) []byte { return m.outBuf[j] }

func (m *mmsgConn) reply(j, i int, resp []byte) {
	if len(resp) > 0 && &resp[0] != &m.outBuf[j][0] {
		copy(m.outBuf[j], resp)
	}
	m.outName[j] = m.inName[i]
	m.out[j].Hdr.Namelen = m.in[i].Hdr.Namelen
	m.outIov[j].SetLen(len(resp))
}

// flush sends replies 0..n-1, waiting while the socket's send buffer is
// full. A reply the kernel refuses (sendmmsg reports the error of the first
// message it could not send) is skipped and the rest still go; the first
// such error is returned.
func (m *mmsgConn) flush(n int) error {
	var first error
	for sent := 0; sent < n; {
		m.sendFrom, m.sendTo = sent, n
		if err := m.rc.Write(m.sendFn); err != nil {
			return err
		}
		switch r, errno := m.sysN, m.sysErr; {
		case errno != 0 || r <= 0:
			if first == nil && errno != 0 {
				first = errno
			}
			sent++
		default:
			sent += r
		}
	}
	return first
}

// sendmmsg is sendFn: false (wait until writable) while the send buffer
// is full.
func (m *mmsgConn) sendmmsg(fd uintptr) bool {
	for {
		v, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&m.out[m.sendFrom])), uintptr(m.sendTo-m.sendFrom), 0, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		m.sysN, m.sysErr = int(v), e
		return true
	}
}
