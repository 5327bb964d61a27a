package store

import (
	"context"

	"netkeep/internal/gateway"
)

// MatchVPNSession returns the gateway's newest open session whose common
// name is m.CommonName and whose client and tunnel addresses are m's (an
// empty address matches any): how a gateway that does not report the
// certificate serial names a client.
func (tx *Tx) MatchVPNSession(ctx context.Context, gatewayID string, m gateway.SessionMatch) (*gateway.Session, error) {
	s, err := scanVPNSession(tx.q.QueryRowContext(ctx, `SELECT `+vpnSessionColumns+` FROM vpn_sessions
		WHERE gateway_id = $1 AND disconnected_at IS NULL
		AND (CAST($2 AS TEXT) = '' OR common_name = $2)
		AND (CAST($3 AS TEXT) = '' OR client_ip = $3)
		AND (CAST($4 AS TEXT) = '' OR vpn_address = $4)
		ORDER BY connected_at DESC, id DESC LIMIT 1`, gatewayID, m.CommonName, m.ClientIP, m.VPNAddress))
	return s, classify(err, "no open session for this client", "")
}
