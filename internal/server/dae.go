package server

import (
	"context"
	"net/netip"
	"strings"

	"netkeep/internal/radius/dae"
	"netkeep/internal/radius/nas"
)

// daeSender carries nas's requests to end sessions over RFC 5176.
type daeSender struct{ c *dae.Client }

// Disconnect implements nas.Disconnector. The station is named as RFC 3580
// recommends (AA-BB-CC-DD-EE-FF), with the session's Acct-Session-Id,
// User-Name and addresses, so the NAS can match on whichever it keys by.
func (d daeSender) Disconnect(ctx context.Context, mode nas.DAEMode, to netip.AddrPort, secret string, s *nas.Session) (nas.DAEAnswer, error) {
	req := dae.Disconnect
	if mode == nas.DAECoA {
		req = dae.CoA
	}
	sess := dae.Session{
		UserName:         s.Username,
		CallingStationID: strings.ToUpper(strings.ReplaceAll(s.MAC, ":", "-")),
		AcctSessionID:    s.SessionID,
	}
	sess.NASIPAddress, _ = netip.ParseAddr(s.NASAddress)
	sess.FramedIPAddress, _ = netip.ParseAddr(s.FramedIP)
	res, err := d.c.Send(ctx, req, dae.Target{Addr: to, Secret: secret}, sess)
	if err != nil {
		return nas.DAEAnswer{}, err
	}
	out := nas.DAEAnswer{ErrorCause: res.ErrorCause, Attempts: res.Attempts}
	switch res.Outcome {
	case dae.ACK:
		out.Outcome = nas.DAEAck
	case dae.NAK:
		out.Outcome = nas.DAENak
	default:
		out.Outcome = nas.DAETimeout
	}
	return out, nil
}
