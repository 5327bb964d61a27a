package dae_test

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"net"
	"net/netip"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc3576"

	"netkeep/internal/radius/dae"
)

// fakeNAS answers every request it receives with the packets reply builds,
// in order, and records how many requests arrived.
func fakeNAS(tb testing.TB, secret string, reply func(req *radius.Packet) [][]byte) (netip.AddrPort, chan int) {
	tb.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	seen := make(chan int, 16)
	go func() {
		buf := make([]byte, 4096)
		for n := 1; ; n++ {
			m, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if !radius.IsAuthenticRequest(buf[:m], []byte(secret)) {
				continue
			}
			req, err := radius.Parse(buf[:m], []byte(secret))
			if err != nil {
				continue
			}
			seen <- n
			for _, b := range reply(req) {
				_, _ = c.WriteToUDP(b, from)
			}
		}
	}()
	return c.LocalAddr().(*net.UDPAddr).AddrPort(), seen
}

// withMA encodes p with a Message-Authenticator computed over the request's
// authenticator, as a NAS signs its answer; corrupt spoils it.
func withMA(tb testing.TB, p *radius.Packet, reqAuth [16]byte, corrupt bool) []byte {
	tb.Helper()
	p.Add(rfc2869.MessageAuthenticator_Type, make([]byte, 16))
	p.Authenticator = reqAuth
	b, err := p.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	mac := hmac.New(md5.New, p.Secret)
	mac.Write(b)
	sum := mac.Sum(nil)
	if corrupt {
		sum[0] ^= 1
	}
	copy(b[len(b)-16:], sum)
	h := md5.New()
	h.Write(b[:4])
	h.Write(reqAuth[:])
	h.Write(b[20:])
	h.Write(p.Secret)
	copy(b[4:20], h.Sum(nil))
	return b
}

// Answers that are not authentic answers to this request are ignored: a
// wrong Identifier, a wrong Response Authenticator, a bad
// Message-Authenticator, an answer of the wrong kind. The authentic NAK
// that follows is reported with its Error-Cause.
func TestForgedAnswersIgnored(t *testing.T) {
	const secret = "s3cret"
	addr, _ := fakeNAS(t, secret, func(req *radius.Packet) [][]byte {
		wrongID := req.Response(radius.CodeDisconnectACK)
		wrongID.Identifier++
		badAuth := req.Response(radius.CodeDisconnectACK)
		badAuth.Secret = []byte("other")
		coaAck := req.Response(radius.CodeCoAACK)
		nak := req.Response(radius.CodeDisconnectNAK)
		_ = rfc3576.ErrorCause_Set(nak, rfc3576.ErrorCause_Value_SessionContextNotFound)
		enc := func(p *radius.Packet) []byte {
			b, err := p.Encode()
			if err != nil {
				t.Error(err)
			}
			return b
		}
		return [][]byte{
			enc(wrongID),
			enc(badAuth),
			withMA(t, req.Response(radius.CodeDisconnectACK), req.Authenticator, true),
			enc(coaAck),
			withMA(t, nak, req.Authenticator, false),
		}
	})
	c := &dae.Client{Wait: 2 * time.Second, Attempts: 1}
	res, err := c.Send(context.Background(), dae.Disconnect, dae.Target{Addr: addr, Secret: secret}, dae.Session{UserName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != dae.NAK || res.ErrorCause != uint32(rfc3576.ErrorCause_Value_SessionContextNotFound) || res.Attempts != 1 {
		t.Fatalf("got %+v, want NAK with Error-Cause 503 after one attempt", res)
	}
}

// Silence is retransmitted until the attempts are spent; an answer to a
// retransmission counts.
func TestRetransmission(t *testing.T) {
	const secret = "s3cret"
	addr, seen := fakeNAS(t, secret, func(req *radius.Packet) [][]byte {
		return nil // never answers
	})
	c := &dae.Client{Wait: 50 * time.Millisecond, Attempts: 3}
	res, err := c.Send(context.Background(), dae.Disconnect, dae.Target{Addr: addr, Secret: secret}, dae.Session{AcctSessionID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != dae.Timeout || res.Attempts != 3 || len(seen) != 3 {
		t.Fatalf("got %+v with %d requests seen, want a timeout after 3", res, len(seen))
	}

	answerSecond, _ := fakeNAS(t, secret, func() func(*radius.Packet) [][]byte {
		n := 0
		return func(req *radius.Packet) [][]byte {
			if n++; n < 2 {
				return nil
			}
			b, _ := req.Response(radius.CodeDisconnectACK).Encode()
			return [][]byte{b}
		}
	}())
	res, err = c.Send(context.Background(), dae.Disconnect, dae.Target{Addr: answerSecond, Secret: secret}, dae.Session{AcctSessionID: "x"})
	if err != nil || res.Outcome != dae.ACK || res.Attempts != 2 {
		t.Fatalf("got %+v %v, want ACK on the second attempt", res, err)
	}
}

func TestBadRequests(t *testing.T) {
	addr := netip.MustParseAddrPort("127.0.0.1:9")
	c := &dae.Client{}
	cases := []struct {
		name string
		req  dae.Request
		t    dae.Target
		s    dae.Session
	}{
		{"no secret", dae.Disconnect, dae.Target{Addr: addr}, dae.Session{UserName: "a"}},
		{"no session attribute", dae.Disconnect, dae.Target{Addr: addr, Secret: "s"}, dae.Session{}},
		{"unknown request", "reboot", dae.Target{Addr: addr, Secret: "s"}, dae.Session{UserName: "a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Send(context.Background(), tc.req, tc.t, tc.s); err == nil {
				t.Fatal("no error")
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Send(ctx, dae.Disconnect, dae.Target{Addr: addr, Secret: "s"}, dae.Session{UserName: "a"}); err == nil {
		t.Fatal("a cancelled context sent anyway")
	}
}
