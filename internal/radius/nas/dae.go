package nas

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// DAEMode is how netkeep asks a client's NAS to end a station's session
// (RFC 5176 Dynamic Authorization).
type DAEMode string

// The modes.
const (
	DAEDisconnect DAEMode = "disconnect" // Disconnect-Request (the default)
	DAECoA        DAEMode = "coa"        // CoA-Request (Session-Timeout = 1), for NASes that act only on CoA
	DAEOff        DAEMode = "off"        // the NAS takes no dynamic authorization requests
)

// DefaultDAEPort is RFC 5176's port.
const DefaultDAEPort = 3799

// DAESettings say where a client's dynamic authorization server listens.
type DAESettings struct {
	Mode DAEMode
	Port int
	// Address is the server's IP when it is not the client's own address.
	// Empty: the client's address; for a client that is a prefix, the
	// NAS-IP-Address its accounting reported, when inside the prefix.
	Address string
}

// NewDAE is what a caller sets of a client's DAE settings; nil fields keep
// their value (the defaults on create).
type NewDAE struct {
	Mode    *string
	Port    *int
	Address *string
}

// applyDAE validates in and applies it to c's settings, naming what
// changed.
func applyDAE(c *Client, in NewDAE) (changed []string, err error) {
	if c.DAE.Mode == "" {
		c.DAE.Mode = DAEDisconnect
	}
	if c.DAE.Port == 0 {
		c.DAE.Port = DefaultDAEPort
	}
	if in.Mode != nil {
		m := DAEMode(strings.ToLower(strings.TrimSpace(*in.Mode)))
		if m != DAEDisconnect && m != DAECoA && m != DAEOff {
			return nil, invalidField("dae_mode", "dae_mode must be disconnect, coa or off")
		}
		c.DAE.Mode = m
		changed = append(changed, "dae_mode")
	}
	if in.Port != nil {
		if *in.Port < 1 || *in.Port > 65535 {
			return nil, invalidField("dae_port", "dae_port must be 1..65535")
		}
		c.DAE.Port = *in.Port
		changed = append(changed, "dae_port")
	}
	if in.Address != nil {
		a := strings.TrimSpace(*in.Address)
		if a != "" {
			ip, err := netip.ParseAddr(a)
			if err != nil || ip.Zone() != "" {
				return nil, invalidField("dae_address", "dae_address must be an IP address")
			}
			a = ip.Unmap().String()
		}
		c.DAE.Address = a
		changed = append(changed, "dae_address")
	}
	return changed, nil
}

// DAETarget is where a Disconnect or CoA request for s goes: the client's
// DAE address, else its own address when it is one IP, else the
// NAS-IP-Address the session's accounting reported, which must lie inside
// the client's prefix (a NAS cannot steer netkeep's requests elsewhere).
// ok is false when the client takes no such requests or no address is known.
func (c *Client) DAETarget(s *Session) (netip.AddrPort, bool) {
	if c.DAE.Mode == DAEOff {
		return netip.AddrPort{}, false
	}
	port := c.DAE.Port
	if port == 0 {
		port = DefaultDAEPort
	}
	var ip netip.Addr
	switch {
	case c.DAE.Address != "":
		ip, _ = netip.ParseAddr(c.DAE.Address)
	case c.Prefix.IsSingleIP():
		ip = c.Prefix.Addr()
	default:
		if a, err := netip.ParseAddr(s.NASAddress); err == nil && c.Prefix.Contains(a.Unmap()) {
			ip = a.Unmap()
		}
	}
	if !ip.IsValid() {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip, uint16(port)), true
}

// DAEOutcome is how a NAS answered a request to end a session.
type DAEOutcome string

// The outcomes.
const (
	DAEAck         DAEOutcome = "ack"         // the NAS ended the session
	DAENak         DAEOutcome = "nak"         // the NAS refused (ErrorCause says why)
	DAETimeout     DAEOutcome = "timeout"     // no answer after every attempt
	DAEUnreachable DAEOutcome = "unreachable" // the request could not be sent
	DAENotSent     DAEOutcome = "not_sent"    // the client takes none, or no address is known
)

// DAEAnswer is a NAS's answer to one request.
type DAEAnswer struct {
	Outcome    DAEOutcome
	ErrorCause uint32
	Attempts   int
}

// Disconnector sends a dynamic authorization request to a NAS and waits
// for its answer (internal/radius/dae behind an adapter). A request that
// could not be sent is an error.
type Disconnector interface {
	Disconnect(ctx context.Context, mode DAEMode, to netip.AddrPort, secret string, s *Session) (DAEAnswer, error)
}

// WithDisconnector sets how sessions are ended; without one, Disconnect
// reports every session as not_sent.
func WithDisconnector(d Disconnector) Option { return func(s *Service) { s.dae = d } }

// DisconnectResult is what happened to one session.
type DisconnectResult struct {
	Session *Session
	DAEAnswer
}

// MaxDisconnect bounds the sessions one Disconnect call acts on.
const MaxDisconnect = 1000

// Disconnect asks the NAS of every online session of the station mac (in
// p's group; "" with clientID and sessionID names one session) to end it,
// and records each answer in the audit log. The sessions are asked one
// after another, each NAS retrying on its own; the call returns when every
// NAS answered or timed out. Errors: unauthorized, forbidden; a session or
// station of another group is simply not found (an empty result).
func (s *Service) Disconnect(ctx context.Context, p *authz.Principal, src audit.Source, f SessionFilter) ([]DisconnectResult, error) {
	if err := authz.Allow(p, actionWrite, authz.Any); err != nil {
		return nil, err
	}
	if f.MAC == "" && f.ClientID == 0 {
		return nil, invalidField("mac", "mac (or client_id) is required")
	}
	f.GroupID, f.Limit, f.Offset = p.GroupScope(), MaxDisconnect, 0
	sessions, _, err := s.store.Read().ListRadiusSessions(ctx, f, s.now().Add(-StaleAfter).UTC())
	if err != nil {
		return nil, err
	}
	out := make([]DisconnectResult, 0, len(sessions))
	clients := map[int64]*Client{}
	for _, sess := range sessions {
		if f.SessionID != "" && sess.SessionID != f.SessionID {
			continue
		}
		c, ok := clients[sess.ClientID]
		if !ok {
			if c, err = s.ByID(ctx, sess.ClientID); err != nil && !fault.Is(err, fault.NotFound) {
				return nil, err
			}
			clients[sess.ClientID] = c
		}
		res := DisconnectResult{Session: sess, DAEAnswer: DAEAnswer{Outcome: DAENotSent}}
		if to, ok := c.daeTarget(sess); ok && s.dae != nil {
			ans, err := s.dae.Disconnect(ctx, c.DAE.Mode, to, c.Secret, sess)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				s.log.Warn("dynamic authorization request not sent", "client", c.ID, "to", to, "error", err)
				ans = DAEAnswer{Outcome: DAEUnreachable}
			}
			res.DAEAnswer = ans
		}
		if err := s.recordDisconnect(ctx, src, res); err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}

// daeTarget is DAETarget for a client that may be gone (nil).
func (c *Client) daeTarget(s *Session) (netip.AddrPort, bool) {
	if c == nil {
		return netip.AddrPort{}, false
	}
	return c.DAETarget(s)
}

// recordDisconnect audits one request's outcome.
func (s *Service) recordDisconnect(ctx context.Context, src audit.Source, r DisconnectResult) error {
	d := map[string]any{"client_id": r.Session.ClientID, "session_id": r.Session.SessionID, "mac": r.Session.MAC,
		"username": r.Session.Username, "outcome": r.Outcome, "attempts": r.Attempts, "at": s.now().UTC().Format(time.RFC3339)}
	if r.ErrorCause != 0 {
		d["error_cause"] = r.ErrorCause
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		return audit.Record(ctx, tx, src, r.Session.GroupID, "radius_session.disconnect",
			"radius_session:"+itoa(r.Session.ClientID)+"/"+r.Session.SessionID, d)
	})
}
