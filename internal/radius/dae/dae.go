// Package dae asks a NAS to end (or re-authorize) a session, as RFC 5176
// Dynamic Authorization Extensions to RADIUS describe: it sends a
// Disconnect-Request or CoA-Request to the NAS's dynamic authorization
// server, with a Message-Authenticator, retransmits it until the NAS
// answers or the attempts run out, and reports ACK, NAK (with its
// Error-Cause) or timeout. It is a transport: what to disconnect, and what
// to record of the answer, is its caller's business.
package dae

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc3576"
)

// DefaultPort is the dynamic authorization port RFC 5176 assigns.
const DefaultPort = 3799

// Request is what the NAS is asked to do.
type Request string

// The requests.
const (
	// Disconnect ends the session (Disconnect-Request).
	Disconnect Request = "disconnect"
	// CoA sends a CoA-Request with Session-Timeout = 1, for NASes that act
	// on CoA but not on Disconnect-Request: the session ends within a
	// second and the station re-authenticates, which a revoked credential
	// then fails.
	CoA Request = "coa"
)

// Valid reports whether r is a known request.
func (r Request) Valid() bool { return r == Disconnect || r == CoA }

// Session identifies the session on the NAS. RFC 5176 §3 lets a NAS match
// on any of these; every one that is known is sent.
type Session struct {
	UserName         string
	CallingStationID string // the station's MAC as the NAS reported it
	AcctSessionID    string
	NASIPAddress     netip.Addr // the NAS's own address, when known
	FramedIPAddress  netip.Addr
}

// Target is a NAS's dynamic authorization server.
type Target struct {
	Addr   netip.AddrPort
	Secret string
}

// Outcome is how the NAS answered.
type Outcome string

// The outcomes.
const (
	ACK     Outcome = "ack"     // Disconnect-ACK / CoA-ACK: done
	NAK     Outcome = "nak"     // Disconnect-NAK / CoA-NAK: refused; see ErrorCause
	Timeout Outcome = "timeout" // no authentic answer after every attempt
)

// Result is the NAS's answer.
type Result struct {
	Outcome    Outcome
	ErrorCause uint32 // a NAK's Error-Cause (RFC 5176 §3.5), 0 when absent
	Attempts   int    // transmissions made
	Elapsed    time.Duration
}

// Client sends dynamic authorization requests. The zero value waits one
// second per attempt and makes three attempts.
type Client struct {
	Wait     time.Duration // how long one attempt waits for the answer
	Attempts int           // transmissions of the same packet, at least 1
	now      func() time.Time
}

var (
	errNoSecret  = errors.New("dae: the NAS has no shared secret")
	errNoSession = errors.New("dae: the session has no identifying attribute")
)

// Send asks t to act on s and waits for its answer. A timeout is a Result,
// not an error; errors are requests that could not be made (bad input, no
// route to the NAS) and ctx ending.
func (c *Client) Send(ctx context.Context, req Request, t Target, s Session) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if t.Secret == "" {
		return Result{}, errNoSecret
	}
	pkt, err := encode(req, []byte(t.Secret), s)
	if err != nil {
		return Result{}, err
	}
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(t.Addr))
	if err != nil {
		return Result{}, fmt.Errorf("dae: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	now := c.now
	if now == nil {
		now = time.Now
	}
	wait, attempts := c.Wait, c.Attempts
	if wait <= 0 {
		wait = time.Second
	}
	if attempts < 1 {
		attempts = 3
	}
	start := now()
	buf := make([]byte, radius.MaxPacketLength)
	for n := 1; n <= attempts; n++ {
		// A retransmission is the same packet: same Identifier and
		// Request Authenticator (RFC 5176 §2.3), so a NAS that acted on
		// the first answers the copy from its duplicate cache.
		if _, err := conn.Write(pkt); err != nil {
			return Result{}, fmt.Errorf("dae: %w", err)
		}
		deadline := now().Add(wait)
		if err := conn.SetReadDeadline(deadline); err != nil {
			return Result{}, fmt.Errorf("dae: %w", err)
		}
		for {
			m, err := conn.Read(buf)
			if ctx.Err() != nil {
				return Result{}, ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break
			}
			if err != nil {
				// An ICMP port unreachable from a NAS that is up but not
				// listening: nothing will answer; keep trying until the
				// attempts are spent, as for silence.
				if now().Before(deadline) {
					time.Sleep(time.Until(deadline))
				}
				break
			}
			if out, ok := answer(buf[:m], pkt, []byte(t.Secret)); ok {
				out.Attempts, out.Elapsed = n, now().Sub(start)
				return out, nil
			}
			// Not an authentic answer to this request: ignore it.
		}
	}
	return Result{Outcome: Timeout, Attempts: attempts, Elapsed: now().Sub(start)}, nil
}

// encode builds the request packet: the identifying attributes, an
// Event-Timestamp, and a Message-Authenticator (RFC 3579 §3.2, computed
// with a zero Request Authenticator), then the Request Authenticator over
// the whole packet (RFC 5176 §2.3, as for Accounting-Request).
func encode(req Request, secret []byte, s Session) ([]byte, error) {
	code := radius.CodeDisconnectRequest
	switch req {
	case Disconnect:
	case CoA:
		code = radius.CodeCoARequest
	default:
		return nil, fmt.Errorf("dae: unknown request %q", req)
	}
	if s.UserName == "" && s.CallingStationID == "" && s.AcctSessionID == "" && !s.FramedIPAddress.IsValid() {
		return nil, errNoSession
	}
	p := radius.New(code, secret)
	p.Authenticator = [16]byte{}
	var err error
	add := func(e error) {
		if err == nil {
			err = e
		}
	}
	if s.UserName != "" {
		add(rfc2865.UserName_SetString(p, s.UserName))
	}
	if s.CallingStationID != "" {
		add(rfc2865.CallingStationID_SetString(p, s.CallingStationID))
	}
	if s.AcctSessionID != "" {
		add(rfc2866.AcctSessionID_SetString(p, s.AcctSessionID))
	}
	if s.NASIPAddress.Is4() {
		add(rfc2865.NASIPAddress_Set(p, s.NASIPAddress.AsSlice()))
	}
	if s.FramedIPAddress.Is4() {
		add(rfc2865.FramedIPAddress_Set(p, s.FramedIPAddress.AsSlice()))
	}
	if req == CoA {
		add(rfc2865.SessionTimeout_Set(p, 1))
	}
	add(rfc2869.EventTimestamp_Set(p, time.Now()))
	if err != nil {
		return nil, fmt.Errorf("dae: %w", err)
	}
	p.Add(rfc2869.MessageAuthenticator_Type, make([]byte, md5.Size))
	b, err := p.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("dae: %w", err)
	}
	mac := hmac.New(md5.New, secret)
	mac.Write(b)
	mac.Sum(b[len(b)-md5.Size : len(b)-md5.Size]) // the last attribute's value
	h := md5.New()
	h.Write(b)
	h.Write(secret)
	h.Sum(b[4:4]) // b[4:20] was zero while hashing, as the RFC requires
	return b, nil
}

// answer reads resp as the answer to req: it must carry req's Identifier,
// an authentic Response Authenticator and, when present, a valid
// Message-Authenticator; anything else is ignored (ok false).
func answer(resp, req, secret []byte) (Result, bool) {
	if len(resp) < 20 || resp[1] != req[1] || !radius.IsAuthenticResponse(resp, req, secret) {
		return Result{}, false
	}
	p, err := radius.Parse(resp, secret)
	if err != nil {
		return Result{}, false
	}
	if ma, ok := p.Lookup(rfc2869.MessageAuthenticator_Type); ok {
		if !validMessageAuthenticator(resp, req[4:20], ma, secret) {
			return Result{}, false
		}
	}
	var out Result
	switch {
	case p.Code == radius.CodeDisconnectACK && req[0] == byte(radius.CodeDisconnectRequest),
		p.Code == radius.CodeCoAACK && req[0] == byte(radius.CodeCoARequest):
		out.Outcome = ACK
	case p.Code == radius.CodeDisconnectNAK && req[0] == byte(radius.CodeDisconnectRequest),
		p.Code == radius.CodeCoANAK && req[0] == byte(radius.CodeCoARequest):
		out.Outcome = NAK
		out.ErrorCause = uint32(rfc3576.ErrorCause_Get(p))
	default:
		return Result{}, false
	}
	return out, true
}

// validMessageAuthenticator checks a response's Message-Authenticator: the
// HMAC-MD5 of the response with the request's authenticator in its
// authenticator field and the attribute's value zeroed (RFC 3579 §3.2).
func validMessageAuthenticator(resp, reqAuth []byte, got radius.Attribute, secret []byte) bool {
	if len(got) != md5.Size {
		return false
	}
	b := append([]byte(nil), resp...)
	copy(b[4:20], reqAuth)
	// Zero the attribute's value where it sits.
	for off := 20; off+2 <= len(b); {
		l := int(b[off+1])
		if l < 2 || off+l > len(b) {
			return false
		}
		if b[off] == byte(rfc2869.MessageAuthenticator_Type) && l == 2+md5.Size {
			clear(b[off+2 : off+l])
			break
		}
		off += l
	}
	mac := hmac.New(md5.New, secret)
	mac.Write(b)
	return hmac.Equal(mac.Sum(nil), got)
}
