package radius

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A reply the kernel refuses does not stop the others in its batch, and the
// error is reported.
func TestBatchFlushSkipsAnUnsendableReply(t *testing.T) {
	srv := listen(t)
	defer srv.Close()
	cs := make([]*net.UDPConn, 3)
	for i := range cs {
		var err error
		if cs[i], err = net.DialUDP("udp", nil, srv.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatal(err)
		}
		defer cs[i].Close()
		if _, err := fmt.Fprintf(cs[i], "q%d", i); err != nil {
			t.Fatal(err)
		}
	}
	bc := newBatchConn(srv)
	m, ok := bc.(*mmsgConn)
	if !ok {
		t.Skip("no batched system calls on this platform")
	}
	read := 0
	for read < 3 {
		_ = srv.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := m.recv()
		if err != nil {
			t.Fatal(err)
		}
		if read+n > 3 {
			t.Fatalf("read %d datagrams, sent 3", read+n)
		}
		// Reply slots follow the datagrams' order across reads.
		for i := range n {
			b, _ := m.datagram(i)
			resp := append(m.replyBuf(read + i)[:0], "re:"...)
			resp = append(resp, b...)
			m.reply(read+i, i, resp)
		}
		read += n
	}
	// The middle reply is addressed to an IPv6 destination, which an IPv4
	// socket cannot send to.
	bad := 1
	m.outName[bad] = [len(m.outName[bad])]byte{}
	binary.NativeEndian.PutUint16(m.outName[bad][0:2], unix.AF_INET6)
	m.outName[bad][23] = 1 // ::1
	m.out[bad].Hdr.Namelen = uint32(len(m.outName[bad]))
	if err := m.flush(3); err == nil {
		t.Fatal("flush reported no error for an unsendable reply")
	}
	for i, c := range cs {
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		switch {
		case i == bad && err == nil:
			t.Fatalf("client %d got %q, sent to the wrong address family", i, buf[:n])
		case i != bad && err != nil:
			t.Fatalf("client %d got no reply: %v", i, err)
		case i != bad && !bytes.HasPrefix(buf[:n], []byte("re:q")):
			t.Fatalf("client %d got %q", i, buf[:n])
		}
	}
}

// Reading a batch and sending its replies allocates nothing: the packet
// path's garbage would otherwise grow the heap with the request rate.
func TestBatchCallsDoNotAllocate(t *testing.T) {
	srv := listen(t)
	defer srv.Close()
	c, err := net.DialUDP("udp", nil, srv.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m, ok := newBatchConn(srv).(*mmsgConn)
	if !ok {
		t.Skip("no batched system calls on this platform")
	}
	_ = srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	q, buf := []byte("query"), make([]byte, 64)
	var failure error
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := c.Write(q); err != nil {
			failure = err
			return
		}
		n, err := m.recv()
		if err != nil || n != 1 {
			failure = fmt.Errorf("recv: %d datagrams, %v", n, err)
			return
		}
		b, _ := m.datagram(0)
		m.reply(0, 0, append(m.replyBuf(0)[:0], b...))
		if err := m.flush(1); err != nil {
			failure = err
			return
		}
		if _, err := c.Read(buf); err != nil {
			failure = err
		}
	})
	if failure != nil {
		t.Fatal(failure)
	}
	if allocs != 0 {
		t.Fatalf("%.1f allocations per request and reply, want 0", allocs)
	}
}
