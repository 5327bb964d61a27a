package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"netkeep/internal/fault"
	"netkeep/internal/gateway"
)

// VPN gateways (see migrations 00008_gateway.sql). IDs are text ("gw-..."),
// CIDRs are stored as text, times in UTC.

const gatewayColumns = `id, group_id, name, description, hostname, port, protocol, vpn_type, vpn_subnet,
	config_version, cert_serial, cert_not_after, cert_hostname, ca_fingerprint, wg_public_key, last_heartbeat,
	agent_version, agent_kind, created_at, updated_at`

const gatewayNotFound = "gateway not found"

func scanGateway(row interface{ Scan(...any) error }) (*gateway.Gateway, error) {
	g := &gateway.Gateway{}
	var protocol, vpnType, subnet, agentKind string
	var certNotAfter, heartbeat sql.NullTime
	err := row.Scan(&g.ID, &g.GroupID, &g.Name, &g.Description, &g.Hostname, &g.Port, &protocol, &vpnType, &subnet,
		&g.ConfigVersion, &g.CertSerial, &certNotAfter, &g.CertHostname, &g.CAFingerprint, &g.PublicKey, &heartbeat,
		&g.AgentVersion, &agentKind, &g.CreatedAt, &g.UpdatedAt)
	if err != nil {
		return nil, wrap(err, "scanning gateway")
	}
	g.Protocol, g.VPNType, g.AgentKind = gateway.Protocol(protocol), gateway.VPNType(vpnType), gateway.AgentKind(agentKind)
	if g.VPNSubnet, err = netip.ParsePrefix(subnet); err != nil {
		return nil, fmt.Errorf("gateway %s: stored vpn_subnet %q: %w", g.ID, subnet, err)
	}
	g.CertNotAfter, g.LastHeartbeat = timePtr(certNotAfter), timePtr(heartbeat)
	g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
	return g, nil
}

// gatewayConflict turns a unique violation of the gateway tables into a
// conflict naming the field; other errors pass through.
func gatewayConflict(err error, what string) error {
	if err == nil || !isUniqueViolation(err) {
		return err
	}
	var pg *pgconn.PgError
	name := err.Error()
	if errors.As(err, &pg) {
		name = pg.ConstraintName
	}
	for _, c := range []struct{ index, column string }{
		{"gateways_name", "gateways.name"}, {"vpn_networks_name", "vpn_networks.name"}, {"mesh_hubs_name", "mesh_hubs.name"},
	} {
		if strings.Contains(name, c.index) || strings.Contains(name, c.column) {
			return fault.Errorf(fault.Conflict, "a %s with this name already exists in the group", what).
				WithDetails(map[string]any{"field": "name"}).Wrap(err)
		}
	}
	return fault.Errorf(fault.Conflict, "the %s conflicts with an existing one", what).Wrap(err)
}

// InsertGateway stores g with its token hash and sealed tls-crypt key.
func (tx *Tx) InsertGateway(ctx context.Context, g *gateway.Gateway, tokenHash [32]byte, tlsCryptSealed []byte) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO gateways (id, group_id, name, description, hostname, port, protocol,
		vpn_type, vpn_subnet, config_version, token_hash, tls_crypt_sealed, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		g.ID, g.GroupID, g.Name, g.Description, g.Hostname, g.Port, string(g.Protocol), string(g.VPNType),
		g.VPNSubnet.String(), g.ConfigVersion, tokenHash[:], tlsCryptSealed, g.CreatedAt.UTC(), g.UpdatedAt.UTC())
	return gatewayConflict(err, "gateway")
}

// GatewayByID returns the gateway or not_found.
func (tx *Tx) GatewayByID(ctx context.Context, id string) (*gateway.Gateway, error) {
	g, err := scanGateway(tx.q.QueryRowContext(ctx, `SELECT `+gatewayColumns+` FROM gateways WHERE id = $1`, id))
	return g, classify(err, gatewayNotFound, "")
}

// GatewayByTokenHash returns the gateway whose token has this SHA-256.
func (tx *Tx) GatewayByTokenHash(ctx context.Context, hash [32]byte) (*gateway.Gateway, error) {
	g, err := scanGateway(tx.q.QueryRowContext(ctx, `SELECT `+gatewayColumns+` FROM gateways WHERE token_hash = $1`, hash[:]))
	return g, classify(err, gatewayNotFound, "")
}

// ListGateways returns groupID's gateways (all for 0) by name.
func (tx *Tx) ListGateways(ctx context.Context, groupID int64) ([]*gateway.Gateway, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+gatewayColumns+` FROM gateways
		WHERE CAST($1 AS BIGINT) = 0 OR group_id = $1 ORDER BY name, id`, groupID)
	if err != nil {
		return nil, wrap(err, "listing gateways")
	}
	defer rows.Close()
	out := []*gateway.Gateway{}
	for rows.Next() {
		g, err := scanGateway(rows)
		if err != nil {
			return nil, wrap(err, "listing gateways")
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// UpdateGateway writes g's settings, config version and update time.
func (tx *Tx) UpdateGateway(ctx context.Context, g *gateway.Gateway) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE gateways SET name = $1, description = $2, hostname = $3, port = $4,
		protocol = $5, vpn_type = $6, vpn_subnet = $7, config_version = $8, updated_at = $9 WHERE id = $10`,
		g.Name, g.Description, g.Hostname, g.Port, string(g.Protocol), string(g.VPNType), g.VPNSubnet.String(),
		g.ConfigVersion, g.UpdatedAt.UTC(), g.ID)
	if err != nil {
		return gatewayConflict(err, "gateway")
	}
	return mustAffect(res, gatewayNotFound)
}

// SetGatewayToken replaces the gateway's token hash.
func (tx *Tx) SetGatewayToken(ctx context.Context, id string, hash [32]byte, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE gateways SET token_hash = $1, updated_at = $2 WHERE id = $3`, hash[:], at.UTC(), id)
	if err != nil {
		return wrap(err, "setting gateway token", id)
	}
	return mustAffect(res, gatewayNotFound)
}

// GatewayTLSCrypt returns the gateway's sealed tls-crypt key.
func (tx *Tx) GatewayTLSCrypt(ctx context.Context, id string) ([]byte, error) {
	var sealed []byte
	err := tx.q.QueryRowContext(ctx, `SELECT tls_crypt_sealed FROM gateways WHERE id = $1`, id).Scan(&sealed)
	return sealed, classify(err, gatewayNotFound, "")
}

// RecordHeartbeat sets the gateway's last heartbeat (never moving it back)
// and agent version.
func (tx *Tx) RecordHeartbeat(ctx context.Context, id string, at time.Time, agentVersion string) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE gateways SET agent_version = $1,
		last_heartbeat = CASE WHEN last_heartbeat IS NULL OR last_heartbeat < $2 THEN $2 ELSE last_heartbeat END
		WHERE id = $3`, agentVersion, at.UTC(), id)
	if err != nil {
		return wrap(err, "recording heartbeat", id)
	}
	return mustAffect(res, gatewayNotFound)
}

// SetGatewayAgent records which agent serves the gateway.
func (tx *Tx) SetGatewayAgent(ctx context.Context, id string, kind gateway.AgentKind, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE gateways SET agent_kind = $1, updated_at = $2 WHERE id = $3`, string(kind), at.UTC(), id)
	if err != nil {
		return wrap(err, "recording the gateway's agent", id)
	}
	return mustAffect(res, gatewayNotFound)
}

// SetGatewayPublicKey stores the WireGuard public key the gateway reported.
func (tx *Tx) SetGatewayPublicKey(ctx context.Context, id, key string, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE gateways SET wg_public_key = $1, updated_at = $2 WHERE id = $3`, key, at.UTC(), id)
	if err != nil {
		return wrap(err, "setting gateway public key", id)
	}
	return mustAffect(res, gatewayNotFound)
}

// RecordProvision stores the server certificate issued to g.
func (tx *Tx) RecordProvision(ctx context.Context, g *gateway.Gateway) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE gateways SET cert_serial = $1, cert_not_after = $2, cert_hostname = $3,
		ca_fingerprint = $4 WHERE id = $5`, g.CertSerial, nullable(g.CertNotAfter), g.CertHostname, g.CAFingerprint, g.ID)
	if err != nil {
		return wrap(err, "recording provision")
	}
	return mustAffect(res, gatewayNotFound)
}

// BumpGatewayVersions raises the config version of each listed gateway once.
func (tx *Tx) BumpGatewayVersions(ctx context.Context, ids []string, at time.Time) error {
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, err := tx.q.ExecContext(ctx, `UPDATE gateways SET config_version = config_version + 1, updated_at = $1
			WHERE id = $2`, at.UTC(), id); err != nil {
			return wrap(err, "bumping gateway versions")
		}
	}
	return nil
}

// DeleteGateway removes the gateway with its links, spokes and sessions.
func (tx *Tx) DeleteGateway(ctx context.Context, id string) error {
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM mesh_hub_spokes WHERE kind = 'gateway' AND spoke_id = $1`, id); err != nil {
		return wrap(err, "deleting gateway", id)
	}
	res, err := tx.q.ExecContext(ctx, `DELETE FROM gateways WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting gateway", id)
	}
	return mustAffect(res, gatewayNotFound)
}
