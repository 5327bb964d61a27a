package radius

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"netkeep/internal/radius/nas"
)

// batchConns are the batchConn implementations of this platform.
func batchConns() map[string]func(*net.UDPConn) batchConn {
	return map[string]func(*net.UDPConn) batchConn{
		"platform": newBatchConn,
		"single":   func(c *net.UDPConn) batchConn { return newSingleConn(c) },
	}
}

// Every datagram queued on a socket is read with its sender, and each
// reply goes to the sender of the datagram it answers.
func TestBatchConnRoundTrip(t *testing.T) {
	for _, network := range []struct{ name, addr string }{{"ipv4", "127.0.0.1:0"}, {"ipv6", "[::1]:0"}} {
		for name, newConn := range batchConns() {
			t.Run(network.name+"/"+name, func(t *testing.T) {
				srv, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(network.addr)))
				if err != nil {
					t.Skipf("no %s loopback: %v", network.name, err)
				}
				defer srv.Close()
				const clients, each = 5, 4 // 20 datagrams, fewer than batchSize
				cs := make([]*net.UDPConn, clients)
				for i := range cs {
					if cs[i], err = net.DialUDP("udp", nil, srv.LocalAddr().(*net.UDPAddr)); err != nil {
						t.Fatal(err)
					}
					defer cs[i].Close()
					for k := range each {
						if _, err := fmt.Fprintf(cs[i], "c%d-%d", i, k); err != nil {
							t.Fatal(err)
						}
					}
				}
				bc := newConn(srv)
				got, calls := map[string]netip.AddrPort{}, 0
				for len(got) < clients*each {
					_ = srv.SetReadDeadline(time.Now().Add(5 * time.Second))
					n, err := bc.recv()
					if err != nil {
						t.Fatalf("after %d datagrams: %v", len(got), err)
					}
					calls++
					for i := range n {
						b, from := bc.datagram(i)
						got[string(b)] = from
						copy(bc.replyBuf(i), "re:")
						resp := append(bc.replyBuf(i)[:3], b...)
						bc.reply(i, i, resp)
					}
					if err := bc.flush(n); err != nil {
						t.Fatal(err)
					}
				}
				if _, ok := bc.(*singleConn); !ok && calls >= clients*each {
					t.Errorf("%d datagrams took %d reads: not batched", clients*each, calls)
				}
				for i, c := range cs {
					local := c.LocalAddr().(*net.UDPAddr).AddrPort()
					for k := range each {
						msg := fmt.Sprintf("c%d-%d", i, k)
						if from := got[msg]; from.Addr().Unmap() != local.Addr().Unmap() || from.Port() != local.Port() {
							t.Fatalf("%s: sender %v, want %v", msg, from, local)
						}
					}
					seen := map[string]bool{}
					buf := make([]byte, 64)
					for range each {
						_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
						n, err := c.Read(buf)
						if err != nil {
							t.Fatalf("client %d: %v", i, err)
						}
						seen[string(buf[:n])] = true
					}
					for k := range each {
						if want := fmt.Sprintf("re:c%d-%d", i, k); !seen[want] {
							t.Fatalf("client %d did not get %q; got %v", i, want, seen)
						}
					}
				}
			})
		}
	}
}

// A burst from many sockets is answered through the batched path: every
// request once, correctly signed; a retransmission afterwards gets the very
// same bytes. (A retransmission inside the burst may meet its original
// still being answered by the socket's other reader and be dropped, as it
// should: the NAS retransmits again.)
func TestServeAnswersABurst(t *testing.T) {
	e := newEnv(t, nasClient(t, 1, "127.0.0.1", secret, nas.Hostapd))
	e.now = time.Now()
	e.server.now = time.Now
	const stations = 50
	for i := range stations {
		e.src.put(PSK{ID: int64(i + 1), GroupID: 1, Passphrase: fmt.Sprintf("passphrase-%04d", i), VLAN: 100 + i, Enabled: true})
		e.src.putEndpoint(Endpoint{ID: int64(i + 1), GroupID: 1, MAC: MAC(0x020000000000 + i), PSKID: int64(i + 1), Enabled: true})
	}
	e.start(t)
	auth, _ := e.serve(t)
	raddr := net.UDPAddrFromAddrPort(netip.MustParseAddrPort(auth))

	const sockets, perSocket = 4, 40 // 160 requests, several batches
	type sent struct {
		req     []byte
		station int // -1: unknown MAC
	}
	conns := make([]*net.UDPConn, sockets)
	reqs := make([][]sent, sockets)
	for s := range conns {
		c, err := net.DialUDP("udp", nil, raddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[s] = c
		for k := range perSocket {
			st := (s*perSocket + k) % (stations + 5)
			mac := MAC(0x020000000000 + st)
			if st >= stations {
				st, mac = -1, MAC(0x0e0000000000+s*perSocket+k)
			}
			req := buildRequest(t, secret, true, func(p *radius.Packet) {
				p.Identifier = byte(k)
				_ = rfc2865.UserName_SetString(p, mac.String())
				_ = rfc2865.UserPassword_SetString(p, mac.String())
				_ = rfc2865.CallingStationID_SetString(p, mac.String())
			})
			reqs[s] = append(reqs[s], sent{req, st})
		}
	}
	// Send everything first, then read: the server's sockets queue the burst.
	for s, c := range conns {
		for _, r := range reqs[s] {
			if _, err := c.Write(r.req); err != nil {
				t.Fatal(err)
			}
		}
	}
	for s, c := range conns {
		answers := map[byte][][]byte{}
		buf := make([]byte, maxPacketLen)
		for range perSocket {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("socket %d: %d answers, then %v", s, len(answers), err)
			}
			answers[buf[1]] = append(answers[buf[1]], append([]byte(nil), buf[:n]...))
		}
		for k, r := range reqs[s] {
			got := answers[byte(k)]
			if len(got) != 1 {
				t.Fatalf("socket %d request %d: %d answers, want 1", s, k, len(got))
			}
			if k == 0 {
				if _, err := c.Write(r.req); err != nil { // a retransmission
					t.Fatal(err)
				}
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				n, err := c.Read(buf)
				if err != nil {
					t.Fatalf("socket %d: retransmission not answered: %v", s, err)
				}
				if !bytes.Equal(buf[:n], got[0]) {
					t.Fatalf("socket %d: the retransmission got a different answer", s)
				}
			}
			p := parseResponse(t, got[0], r.req, secret)
			switch {
			case r.station < 0 && p.Code != radius.CodeAccessReject:
				t.Fatalf("socket %d request %d (unknown MAC): %v", s, k, p.Code)
			case r.station >= 0 && p.Code != radius.CodeAccessAccept:
				t.Fatalf("socket %d request %d: %v", s, k, p.Code)
			case r.station >= 0 && string(p.Get(attrTunnelPrivateGroupID)) != fmt.Sprint(100+r.station):
				t.Fatalf("socket %d request %d: VLAN %q, want %d", s, k, p.Get(attrTunnelPrivateGroupID), 100+r.station)
			}
		}
	}
}
