package activity

import (
	"encoding/json"
	"fmt"
	"strings"

	"netkeep/internal/authz"
)

// kind is how one audit action reads in the feed, and the read permission
// a caller needs to see it (the same as to read the object itself).
type kind struct {
	typ, icon, iconClass, verb string
	need                       authz.Action
}

// ownOnly are the actions on objects a USER sees only its own of (API
// keys, as their listing does): a USER sees none of their entries.
var ownOnly = map[string]bool{"apikey.create": true, "apikey.revoke": true}

// ActionWebhook is the audit action of an activity entry a webhook created.
const ActionWebhook = "webhook.activity"

// kinds lists the audit actions the feed shows. Logins, reads and the
// technical chatter of agents (heartbeats, key fetches) are left out:
// the feed is what changed, the audit log is everything.
var kinds = map[string]kind{
	"device.paired":  {"device_paired", "Smartphone", "success", "Device paired", "devices:read"},
	"device.revoked": {"device_revoked", "XCircle", "", "Device revoked", "devices:read"},
	ActionWebhook:    {ActionWebhook, "Bell", "", "", "devices:read"},

	"psk.create":      {"psk_created", "KeyRound", "success", "PSK created", "psks:read"},
	"psk.update":      {"psk_updated", "KeyRound", "", "PSK updated", "psks:read"},
	"psk.delete":      {"psk_deleted", "Trash2", "warning", "PSK deleted", "psks:read"},
	"psk.import":      {"psks_imported", "Upload", "success", "PSKs imported", "psks:read"},
	"endpoint.create": {"endpoint_created", "Wifi", "success", "Device MAC added", "endpoints:read"},
	"endpoint.delete": {"endpoint_deleted", "WifiOff", "warning", "Device MAC removed", "endpoints:read"},

	"network.create": {"network_created", "Share2", "success", "Mesh network created", "networks:read"},
	"network.delete": {"network_deleted", "Trash2", "warning", "Mesh network deleted", "networks:read"},
	"node.create":    {"node_joined", "Network", "success", "Node joined", "nodes:read"},
	"node.delete":    {"node_removed", "Network", "warning", "Node removed", "nodes:read"},

	"gateway.create":    {"gateway_created", "Server", "success", "Gateway created", "gateways:read"},
	"gateway.provision": {"gateway_provisioned", "Server", "success", "Gateway provisioned", "gateways:read"},
	"gateway.delete":    {"gateway_deleted", "ServerOff", "warning", "Gateway deleted", "gateways:read"},
	"pki.revoke":        {"certificate_revoked", "ShieldOff", "warning", "Certificate revoked", "pki:read"},

	"radius_client.create": {"radius_client_added", "Router", "success", "RADIUS client added", "radius:read"},
	"radius_client.delete": {"radius_client_removed", "Router", "warning", "RADIUS client removed", "radius:read"},

	"user.create":   {"user_created", "UserPlus", "success", "User created", "users:read"},
	"user.delete":   {"user_deleted", "UserMinus", "warning", "User deleted", "users:read"},
	"group.create":  {"group_created", "Users", "success", "Group created", "groups:read"},
	"apikey.create": {"apikey_created", "Key", "success", "API key created", "apikeys:manage"},
	"apikey.revoke": {"apikey_revoked", "Key", "warning", "API key revoked", "apikeys:manage"},
}

// nameKeys are the audit detail fields that name an object, most telling
// first.
var nameKeys = []string{"deviceName", "name", "username", "psk_id", "mac_address", "macaddress", "common_name", "hostname", "model"}

// describe is the feed's sentence for an entry of kind k: the verb and the
// object's name, from the entry's details or else its target.
func (k kind) describe(target, details string) string {
	var d map[string]any
	_ = json.Unmarshal([]byte(details), &d)
	if k.typ == "psks_imported" {
		return fmt.Sprintf("%s: %v PSKs, %v MACs", k.verb, num(d["psks"]), num(d["endpoints"]))
	}
	for _, key := range nameKeys {
		if s, ok := d[key].(string); ok && s != "" {
			return k.verb + ": " + s
		}
	}
	if _, id, ok := strings.Cut(target, ":"); ok && id != "" {
		return k.verb + ": " + id
	}
	if target != "" {
		return k.verb + ": " + target
	}
	return k.verb
}

func num(v any) any {
	if v == nil {
		return 0
	}
	return v
}

// actionsFor lists the audit actions whose entries p may see.
func actionsFor(p *authz.Principal) []string {
	var out []string
	user := p.Role == authz.User && !p.IsSuper()
	for action, k := range kinds {
		if ownOnly[action] && user {
			continue
		}
		if authz.Allow(p, k.need, authz.Any) == nil {
			out = append(out, action)
		}
	}
	return out
}
