package backup

import (
	"context"
	"slices"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// Facet is a part of netkeep that is restored as a whole: its tables.
type Facet string

// The facets.
const (
	FacetUsers        Facet = "users"        // groups and users, and the geo-fences of their logins
	FacetAPIKeys      Facet = "apiKeys"      // API keys
	FacetWiFi         Facet = "wifi"         // PSKs, endpoints, RADIUS clients
	FacetMesh         Facet = "mesh"         // mesh networks, access keys, nodes
	FacetVPN          Facet = "vpn"          // gateways, VPN networks, access rules, hubs, client configs
	FacetCertificates Facet = "certificates" // the CA, issued certificates, CRLs, the HTTPS certificates, federation peers
	FacetDevices      Facet = "devices"      // paired devices
	FacetApps         Facet = "apps"         // the app catalog
	FacetRoutes       Facet = "routes"       // proxy routes
	FacetScripts      Facet = "scripts"      // registered scripts, workflows, schedules
	FacetToolbox      Facet = "toolbox"      // toolbox deployments (the record; the containers live on the engine)
)

// facetTables is every table a restore may replace, by facet. Every table of
// the schema is here or in Volatile (a test holds the two to the schema).
var facetTables = map[Facet][]string{
	FacetUsers:   {"groups", "users", "geo_fence", "geo_fence_groups", "sso_providers", "sso_links", "oauth_clients"},
	FacetAPIKeys: {"api_keys"},
	FacetWiFi:    {"psks", "psk_counts", "endpoints", "radius_clients", "radius_pmks"},
	FacetMesh:    {"mesh_networks", "mesh_access_keys", "mesh_nodes"},
	FacetVPN: {"gateways", "vpn_networks", "vpn_network_gateways", "access_rules", "access_rule_users",
		"access_rule_groups", "mesh_hubs", "mesh_hub_spokes", "mesh_hub_members", "vpn_configs", "wireguard_leases"},
	// Federation peers are pinned to CAs and pin this one: they go with it.
	FacetCertificates: {"pki_authorities", "pki_certificates", "pki_crls", "pki_distrust", "pki_state", "tls_certificates", "federation_peers"},
	FacetDevices:      {"devices", "device_cookies"},
	FacetApps:         {"apps", "app_icons", "discovery_proposals"},
	FacetRoutes:       {"app_routes"}, // one per app: restoring routes needs their apps present
	FacetScripts:      {"scripts", "workflows", "schedules"},
	FacetToolbox:      {"toolbox_deployments"},
}

// Volatile tables are copied into backups but never restored: the audit
// log (history is not rewritten), login sessions and refresh tokens
// (revoked ones must not come back), live RADIUS and VPN sessions, staged
// imports, script executions and schedule claims, pairing codes, OAuth2 grants, tokens,
// requests and signing keys (rotated; restoring old ones would revive
// what was revoked), SAML assertions seen (replay protection), federation
// join tokens (one-time), peers' apps (fetched again at the next sync)
// and the federation listener's certificates (issued again when missing).
var Volatile = []string{"federation_tokens", "federation_identities", "federation_apps", "audit_log", "sessions", "refresh_tokens", "radius_sessions", "vpn_sessions", "psk_imports",
	"script_executions", "schedule_runs", "pairing_codes", "oauth_grants", "oauth_keys", "oauth_refresh_tokens", "oauth_requests", "sso_assertions"}

// Facets lists the facets in a fixed order.
func Facets() []Facet {
	return []Facet{FacetUsers, FacetAPIKeys, FacetWiFi, FacetMesh, FacetVPN, FacetCertificates, FacetDevices, FacetApps, FacetRoutes, FacetScripts, FacetToolbox}
}

// Tables returns the tables of f.
func (f Facet) Tables() []string { return slices.Clone(facetTables[f]) }

// Restore replaces the chosen facets' data with backup id's, atomically,
// after checking the backup's checksum; then every replica reloads its
// state. Facets the backup predates are skipped. Errors: not_found,
// invalid (no facet chosen, the backup damaged, or the restore would leave
// references dangling — nothing changes then), conflict (busy), forbidden.
func (s *Service) Restore(ctx context.Context, p *authz.Principal, src audit.Source, id string, facets []Facet) error {
	if err := allow(p, actWrite); err != nil {
		return err
	}
	if !idPattern.MatchString(id) {
		return notFound(id)
	}
	if len(facets) == 0 {
		return fault.New(fault.Invalid, "choose at least one facet to restore").WithDetails(map[string]any{"field": "facets"})
	}
	if !s.mu.TryLock() {
		return fault.New(fault.Conflict, "a backup or restore is already running").WithReason(ReasonBusy)
	}
	defer s.mu.Unlock()
	b, err := s.readManifest(id)
	if err != nil {
		return err
	}
	_, sum, err := Checksum(ctx, s.dbPath(id), nil)
	if err != nil || sum != b.SHA256 {
		return fault.New(fault.Invalid, "the backup file is missing or does not match its checksum").WithReason(ReasonCorrupt).
			WithDetails(map[string]any{"backup_id": id})
	}
	var tables []string
	for _, f := range facets {
		for _, t := range facetTables[f] {
			if _, ok := b.Tables[t]; ok && !slices.Contains(tables, t) {
				tables = append(tables, t)
			}
		}
	}
	entry, err := audit.NewEntry(src, 0, "backup.restore", target(id), map[string]any{"facets": facets, "tables": tables})
	if err != nil {
		return err
	}
	if len(tables) > 0 {
		if err := s.store.Restore(ctx, s.dbPath(id), tables, entry); err != nil {
			return err // nothing changed
		}
	} else if err := s.store.Audit(ctx, entry); err != nil {
		return err
	}
	if err := s.bus.Resync(ctx); err != nil {
		s.log.Warn("telling replicas to reload after a restore", "error", err)
	}
	return nil
}
