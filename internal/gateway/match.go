package gateway

import (
	"context"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// SessionMatch names a connected client the way a gateway that does not
// report certificate serials does (GateKey's own gateway agent): by its
// certificate's common name and its addresses. Empty fields match any.
type SessionMatch struct {
	CommonName string
	ClientIP   string // the client's public address
	VPNAddress string // its tunnel address
}

func (m SessionMatch) valid() (SessionMatch, error) {
	var err error
	if m.ClientIP, err = optionalAddr("client_ip", m.ClientIP); err != nil {
		return m, err
	}
	if m.VPNAddress, err = optionalAddr("vpn_address", m.VPNAddress); err != nil {
		return m, err
	}
	if m.CommonName == "" && m.VPNAddress == "" {
		return m, invalidField("common_name", "common_name or the client's tunnel address is required")
	}
	return m, nil
}

var errNoSession = fault.New(fault.NotFound, "no open session for this client")

// ClientGrants returns what the connected client m names may reach through
// p's gateway now: its open session, re-verified as Verify does (a
// certificate revoked or a user disabled since the connection gets a
// refusal, forbidden with details.reason), and its grants.
// Errors: invalid (m), not_found (no open session), forbidden, unauthorized.
func (s *Service) ClientGrants(ctx context.Context, p *authz.Principal, m SessionMatch) (*Session, *Verdict, error) {
	g, err := s.self(ctx, p, "")
	if err != nil {
		return nil, nil, err
	}
	if m, err = m.valid(); err != nil {
		return nil, nil, err
	}
	sess, err := s.store.Read().MatchVPNSession(ctx, g.ID, m)
	if err != nil {
		return nil, nil, notFoundAs(err, errNoSession)
	}
	v, err := s.verify(ctx, g, ClientCert{Serial: sess.Serial, CommonName: sess.CommonName})
	if err != nil {
		return sess, nil, err
	}
	return sess, v, nil
}
