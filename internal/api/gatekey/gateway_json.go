package gatekey

import (
	"time"

	"netkeep/internal/gateway"
)

// optionalTime is t in RFC 3339, or null.
func optionalTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return timestamp(*t)
}

// gatewayJSON is a gateway as the user API shows it (the seed's fields and
// vpn_type), its status derived from the last heartbeat at now.
func gatewayJSON(g *gateway.Gateway, now time.Time) map[string]any {
	return map[string]any{
		"id": g.ID, "name": g.Name, "description": g.Description, "hostname": g.Hostname, "port": g.Port,
		"protocol": g.Protocol, "vpn_type": g.VPNType, "status": g.StatusAt(now), "last_heartbeat": optionalTime(g.LastHeartbeat),
	}
}

// adminGatewayJSON adds what administrators manage and monitor; never the
// token or the tls-crypt key.
func adminGatewayJSON(g *gateway.Gateway, now time.Time) map[string]any {
	out := gatewayJSON(g, now)
	out["group_id"] = g.GroupID
	out["vpn_subnet"] = g.VPNSubnet.String()
	out["config_version"] = g.ConfigVersion
	out["agent_version"] = g.AgentVersion
	out["public_key"] = g.PublicKey
	out["cert_serial"] = g.CertSerial
	out["cert_expires_at"] = optionalTime(g.CertNotAfter)
	out["created_at"] = timestamp(g.CreatedAt)
	out["updated_at"] = timestamp(g.UpdatedAt)
	return out
}

func networkJSON(n *gateway.Network) map[string]any {
	return map[string]any{
		"id": n.ID, "group_id": n.GroupID, "name": n.Name, "description": n.Description, "cidr": n.CIDR.String(),
		"gateway_ids": n.GatewayIDs, "created_at": timestamp(n.CreatedAt), "updated_at": timestamp(n.UpdatedAt),
	}
}

func ruleJSON(r *gateway.Rule) map[string]any {
	return map[string]any{
		"id": r.ID, "group_id": r.GroupID, "name": r.Name, "description": r.Description, "network_id": r.NetworkID,
		"destination": r.Destination.String(), "protocol": r.Protocol, "ports": gateway.FormatPorts(r.Ports),
		"user_ids": r.UserIDs, "group_ids": r.GroupIDs, "enabled": r.Enabled,
		"created_at": timestamp(r.CreatedAt), "updated_at": timestamp(r.UpdatedAt),
	}
}

func spokesJSON(spokes []gateway.Spoke) []map[string]any {
	out := make([]map[string]any, len(spokes))
	for i, sp := range spokes {
		out[i] = map[string]any{"type": sp.Kind, "id": sp.ID}
	}
	return out
}

func hubJSON(h *gateway.Hub) map[string]any {
	return map[string]any{
		"id": h.ID, "group_id": h.GroupID, "name": h.Name, "description": h.Description, "gateway_id": h.GatewayID,
		"spokes": spokesJSON(h.Spokes), "created_at": timestamp(h.CreatedAt), "updated_at": timestamp(h.UpdatedAt),
	}
}

func sessionJSON(s *gateway.Session) map[string]any {
	return map[string]any{
		"id": s.ID, "gateway_id": s.GatewayID, "user_id": s.UserID, "username": s.Username, "common_name": s.CommonName,
		"serial": s.Serial, "client_ip": s.ClientIP, "vpn_address": s.VPNAddress, "active": s.Active(),
		"connected_at": timestamp(s.ConnectedAt), "disconnected_at": optionalTime(s.DisconnectedAt),
		"bytes_received": s.BytesIn, "bytes_sent": s.BytesOut,
	}
}

func grantJSON(g gateway.Grant) map[string]any {
	return map[string]any{
		"rule_id": g.RuleID, "network_id": g.NetworkID, "destination": g.Destination.String(),
		"protocol": g.Protocol, "ports": gateway.FormatPorts(g.Ports),
	}
}
