package main

import (
	"crypto/hmac"
	"crypto/md5"
	"fmt"
	"net"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

const attrMessageAuthenticator = 80

// radiusClient sends MAC-authentication Access-Requests, signed with a
// Message-Authenticator, as an access point would.
type radiusClient struct {
	secret []byte
}

// request builds a MAC-auth Access-Request for station.
func (c *radiusClient) request(station string) ([]byte, error) {
	p := radius.New(radius.CodeAccessRequest, c.secret)
	p.Attributes = radius.Attributes{{Type: attrMessageAuthenticator, Attribute: make([]byte, 16)}}
	for _, set := range []func(*radius.Packet, string) error{
		rfc2865.UserName_SetString, rfc2865.UserPassword_SetString, rfc2865.CallingStationID_SetString,
	} {
		if err := set(p, station); err != nil {
			return nil, err
		}
	}
	if err := rfc2865.CalledStationID_SetString(p, "02-00-00-00-00-01:netkeep"); err != nil {
		return nil, err
	}
	b, err := p.Encode()
	if err != nil {
		return nil, err
	}
	// The Message-Authenticator is the first attribute: bytes 22..38.
	mac := hmac.New(md5.New, c.secret)
	mac.Write(b)
	copy(b[22:38], mac.Sum(nil))
	return b, nil
}

// exchange sends one request to addr and waits up to timeout for its
// answer; it returns the answer's code.
func (c *radiusClient) exchange(addr, station string, timeout time.Duration) (radius.Code, error) {
	req, err := c.request(station)
	if err != nil {
		return 0, err
	}
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.Write(req); err != nil {
		return 0, err
	}
	buf := make([]byte, 4096)
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return 0, err // a timeout, or ICMP port unreachable: nobody listens
		}
		resp := buf[:n]
		if n < 20 || resp[1] != req[1] || !radius.IsAuthenticResponse(resp, req, c.secret) {
			continue // not the answer to this request
		}
		return radius.Code(resp[0]), nil
	}
}

// accepted reports whether addr answers station with Access-Accept.
func (c *radiusClient) accepted(addr, station string, timeout time.Duration) (bool, error) {
	code, err := c.exchange(addr, station, timeout)
	if err != nil {
		return false, err
	}
	return code == radius.CodeAccessAccept, nil
}

// authenticate asks first and, when it does not answer, second: the
// access point's retransmission to its other configured server. It
// returns whether the retransmission was needed, and an error when neither
// accepted station.
func (c *radiusClient) authenticate(first, second, station string, timeout time.Duration) (retried bool, err error) {
	code, err := c.exchange(first, station, timeout)
	if err != nil {
		retried = true
		code, err = c.exchange(second, station, timeout)
	}
	switch {
	case err != nil:
		return retried, fmt.Errorf("no answer from either server: %w", err)
	case code != radius.CodeAccessAccept:
		return retried, fmt.Errorf("%v for %s", code, station)
	}
	return retried, nil
}
