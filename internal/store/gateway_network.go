package store

import (
	"context"
	"fmt"
	"net/netip"

	"netkeep/internal/gateway"
)

// VPN networks and the gateways they are behind.

const vpnNetworkColumns = `id, group_id, name, description, cidr, created_at, updated_at`

const vpnNetworkNotFound = "network not found"

func scanVPNNetwork(row interface{ Scan(...any) error }) (*gateway.Network, error) {
	n := &gateway.Network{GatewayIDs: []string{}}
	var cidr string
	if err := row.Scan(&n.ID, &n.GroupID, &n.Name, &n.Description, &cidr, &n.CreatedAt, &n.UpdatedAt); err != nil {
		return nil, wrap(err, "scanning VPN network")
	}
	var err error
	if n.CIDR, err = netip.ParsePrefix(cidr); err != nil {
		return nil, fmt.Errorf("network %s: stored cidr %q: %w", n.ID, cidr, err)
	}
	n.CreatedAt, n.UpdatedAt = n.CreatedAt.UTC(), n.UpdatedAt.UTC()
	return n, nil
}

// InsertVPNNetwork stores n with its gateway links.
func (tx *Tx) InsertVPNNetwork(ctx context.Context, n *gateway.Network) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO vpn_networks (id, group_id, name, description, cidr, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, n.ID, n.GroupID, n.Name, n.Description, n.CIDR.String(),
		n.CreatedAt.UTC(), n.UpdatedAt.UTC())
	if err != nil {
		return gatewayConflict(err, "network")
	}
	return tx.linkNetwork(ctx, n)
}

func (tx *Tx) linkNetwork(ctx context.Context, n *gateway.Network) error {
	for _, gw := range n.GatewayIDs {
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO vpn_network_gateways (network_id, gateway_id) VALUES ($1, $2)`,
			n.ID, gw); err != nil {
			return wrap(err, "linking network")
		}
	}
	return nil
}

// VPNNetworkByID returns the network with its gateways, or not_found.
func (tx *Tx) VPNNetworkByID(ctx context.Context, id string) (*gateway.Network, error) {
	n, err := scanVPNNetwork(tx.q.QueryRowContext(ctx, `SELECT `+vpnNetworkColumns+` FROM vpn_networks WHERE id = $1`, id))
	if err != nil {
		return nil, classify(err, vpnNetworkNotFound, "")
	}
	rows, err := tx.q.QueryContext(ctx, `SELECT gateway_id FROM vpn_network_gateways WHERE network_id = $1 ORDER BY gateway_id`, id)
	if err != nil {
		return nil, wrap(err, "reading VPN network by id", id)
	}
	defer rows.Close()
	for rows.Next() {
		var gw string
		if err := rows.Scan(&gw); err != nil {
			return nil, wrap(err, "reading VPN network by id", id)
		}
		n.GatewayIDs = append(n.GatewayIDs, gw)
	}
	return n, rows.Err()
}

// ListVPNNetworks returns groupID's networks (all for 0) by name, with
// their gateways.
func (tx *Tx) ListVPNNetworks(ctx context.Context, groupID int64) ([]*gateway.Network, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT `+vpnNetworkColumns+` FROM vpn_networks
		WHERE CAST($1 AS BIGINT) = 0 OR group_id = $1 ORDER BY name, id`, groupID)
	if err != nil {
		return nil, wrap(err, "listing VPN networks")
	}
	out := []*gateway.Network{}
	byID := map[string]*gateway.Network{}
	for rows.Next() {
		n, err := scanVPNNetwork(rows)
		if err != nil {
			rows.Close()
			return nil, wrap(err, "listing VPN networks")
		}
		out = append(out, n)
		byID[n.ID] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "listing VPN networks")
	}
	links, err := tx.q.QueryContext(ctx, `SELECT l.network_id, l.gateway_id FROM vpn_network_gateways l
		JOIN vpn_networks n ON n.id = l.network_id
		WHERE CAST($1 AS BIGINT) = 0 OR n.group_id = $1 ORDER BY l.gateway_id`, groupID)
	if err != nil {
		return nil, wrap(err, "listing VPN networks")
	}
	defer links.Close()
	for links.Next() {
		var netID, gw string
		if err := links.Scan(&netID, &gw); err != nil {
			return nil, wrap(err, "listing VPN networks")
		}
		if n := byID[netID]; n != nil {
			n.GatewayIDs = append(n.GatewayIDs, gw)
		}
	}
	return out, links.Err()
}

// UpdateVPNNetwork writes n's fields and replaces its gateway links.
func (tx *Tx) UpdateVPNNetwork(ctx context.Context, n *gateway.Network) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE vpn_networks SET name = $1, description = $2, cidr = $3, updated_at = $4
		WHERE id = $5`, n.Name, n.Description, n.CIDR.String(), n.UpdatedAt.UTC(), n.ID)
	if err != nil {
		return gatewayConflict(err, "network")
	}
	if err := mustAffect(res, vpnNetworkNotFound); err != nil {
		return wrap(err, "updating VPN network")
	}
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM vpn_network_gateways WHERE network_id = $1`, n.ID); err != nil {
		return wrap(err, "updating VPN network")
	}
	return tx.linkNetwork(ctx, n)
}

// DeleteVPNNetwork removes the network, its links and the spokes naming it.
// A network that access rules refer to cannot be deleted (foreign key).
func (tx *Tx) DeleteVPNNetwork(ctx context.Context, id string) error {
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM mesh_hub_spokes WHERE kind = 'network' AND spoke_id = $1`, id); err != nil {
		return wrap(err, "deleting VPN network", id)
	}
	res, err := tx.q.ExecContext(ctx, `DELETE FROM vpn_networks WHERE id = $1`, id)
	if err != nil {
		return wrap(err, "deleting VPN network", id)
	}
	return mustAffect(res, vpnNetworkNotFound)
}
