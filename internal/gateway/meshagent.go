package gateway

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/pki"
)

// MeshBeat answers a mesh agent's heartbeat: the configuration version it
// should run, whether it must provision again, and the issuing CA.
type MeshBeat struct {
	Version          string
	NeedsReprovision bool
	CAFingerprint    string
}

// HubHeartbeat records that p's hub gateway is alive, as Heartbeat does,
// and tells its agent to provision again when the version it reports
// ("" before its first provisioning: no opinion) differs from the hub's,
// or its server certificate must be replaced (Heartbeat's reasons).
// Errors: forbidden (not a hub gateway), unauthorized.
func (s *Service) HubHeartbeat(ctx context.Context, p *authz.Principal, src audit.Source, reported string) (*HubNode, *MeshBeat, error) {
	n, err := s.HubNode(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	rep, err := s.Heartbeat(ctx, p, src, Heartbeat{})
	if err != nil {
		return nil, nil, err
	}
	return n, &MeshBeat{Version: n.Version, CAFingerprint: n.Trust.Issuer.Fingerprint,
		NeedsReprovision: rep.NeedsReprovision || reported != "" && reported != n.Version}, nil
}

// ProvisionHub issues p's hub gateway its server certificate as Provision
// does (the same record, audit and superseding) and returns it with the
// hub's configuration version. Errors: as HubNode and Provision.
func (s *Service) ProvisionHub(ctx context.Context, p *authz.Principal, src audit.Source) (*Provisioned, string, error) {
	if err := s.CheckAgentNode(ctx, p, NodeHub); err != nil {
		return nil, "", err
	}
	pr, err := s.Provision(ctx, p, src, "")
	if err != nil {
		return nil, "", err
	}
	return pr, hubVersion(pr.Gateway, pr.Trust, pr.TLSCrypt), nil
}

// SpokeHeartbeat records that p's spoke gateway is alive and tells its
// agent to provision again when the version it reports differs from its
// spoke's, or it holds no client certificate valid beyond the reprovision
// margin. Heartbeats are liveness telemetry and are not audited.
// Errors: forbidden (not a spoke gateway), unauthorized.
func (s *Service) SpokeHeartbeat(ctx context.Context, p *authz.Principal, reported string) (*SpokeNode, *MeshBeat, error) {
	n, err := s.SpokeNode(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	g := n.Site.Gateway
	if err := s.store.InTx(ctx, func(tx Tx) error {
		return tx.RecordHeartbeat(ctx, g.ID, s.stamp(), "")
	}); err != nil {
		return nil, nil, notFoundAs(err, errBadToken)
	}
	certs, err := s.pki.Unrevoked(ctx, pki.Owner{GatewayID: g.ID, Kind: pki.KindClient})
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	fresh := slices.ContainsFunc(certs, func(c *pki.Certificate) bool {
		// A certificate cut short by its CA's end is renewed in its last third.
		return c.NotAfter.After(now.Add(min(reprovisionBefore, c.NotAfter.Sub(c.NotBefore)/3)))
	})
	return n, &MeshBeat{Version: n.Version, CAFingerprint: n.Trust.Issuer.Fingerprint,
		NeedsReprovision: !fresh || reported != "" && reported != n.Version}, nil
}

// SpokeProvisioned is what a spoke's agent needs to dial its hub: its new
// client certificate and key (the key exists only here), its group's
// trust, and its hub's static key for tls-auth.
type SpokeProvisioned struct {
	Node    *SpokeNode
	Issued  *pki.Issued
	Trust   *pki.Trust
	TLSAuth []byte
}

// ProvisionSpoke issues p's spoke gateway a client certificate named
// SpokeCNPrefix + its name, the name GateKey's hub routes by, and revokes
// (superseded) the client certificates it held before. Audited as
// mesh-spoke.provision on the gateway. The caller must hand the key over
// and drop it.
// Errors: forbidden (not a spoke gateway), unauthorized, invalid (a name
// too long for a common name), unavailable (no CA).
func (s *Service) ProvisionSpoke(ctx context.Context, p *authz.Principal, src audit.Source) (*SpokeProvisioned, error) {
	n, err := s.SpokeNode(ctx, p)
	if err != nil {
		return nil, err
	}
	g := n.Site.Gateway
	cn := SpokeCNPrefix + g.Name
	if len(cn) > pki.MaxCommonName {
		return nil, invalidField("name", "a mesh spoke's gateway name must be at most "+
			strconv.Itoa(pki.MaxCommonName-len(SpokeCNPrefix))+" characters: its certificate is named after it")
	}
	old, err := s.pki.Unrevoked(ctx, pki.Owner{GatewayID: g.ID, Kind: pki.KindClient})
	if err != nil {
		return nil, err
	}
	issued, err := s.pki.IssueClient(ctx, src, pki.ClientRequest{CommonName: cn, GatewayID: g.ID, GroupID: g.GroupID})
	if err != nil {
		return nil, err
	}
	replaced := make([]string, len(old))
	for i, c := range old {
		replaced[i] = string(c.Serial)
	}
	if err := s.store.InTx(ctx, func(tx Tx) error {
		return audit.Record(ctx, tx, src, g.GroupID, "mesh-spoke.provision", gatewayTarget(g.ID), map[string]any{
			"serial": issued.Certificate.Serial, "mesh_hub": n.Hub.ID, "common_name": cn, "replaces": replaced,
		})
	}); err != nil {
		return nil, err
	}
	for _, c := range old {
		if _, err := s.pki.RevokeUnchecked(ctx, src, c.Serial, pki.Superseded); err != nil && !fault.Is(err, fault.NotFound) {
			// As Provision: the new certificate is in place; the old one
			// expires on its own.
			s.log.Warn("revoking a superseded spoke certificate", "gateway", g.ID, "serial", c.Serial, "error", err)
		}
	}
	s.publish(ctx, "spoke.provisioned", g.GroupID, g.ID)
	trust := n.Trust
	if len(old) > 0 { // read again, so the CRLs list the old certificates
		if trust, err = s.pki.Trust(ctx, g.GroupID); err != nil {
			return nil, err
		}
	}
	return &SpokeProvisioned{Node: n, Issued: issued, Trust: trust, TLSAuth: n.hubKey}, nil
}

// The events a hub's agent reports.
const (
	MeshSpokeConnected     = "spoke_connected"
	MeshSpokeDisconnected  = "spoke_disconnected"
	MeshClientConnected    = "client_connected"
	MeshClientDisconnected = "client_disconnected"
)

// MeshReport is a hub agent's report of a spoke or a VPN client connecting
// to or disconnecting from the hub. Every field but Event is optional.
type MeshReport struct {
	Event string
	// Spoke names a spoke of the hub: its gateway's ID, or the admin API's
	// "<hub id>:<gateway id>".
	Spoke    string
	User     string // a client's user as the hub names it (its certificate's common name)
	RemoteIP string // the peer's public address
	TunnelIP string // its address in the hub's tunnel
}

// ReportMesh records r for p's hub gateway as an audit entry
// ("mesh-hub." + r.Event, on the hub's gateway) and publishes it. The
// hub's OpenVPN server, not netkeep, admits these peers, so a report
// changes no access.
// Errors: forbidden (not a hub gateway), unauthorized, invalid (event,
// addresses, user), not_found (a spoke the hub does not have).
func (s *Service) ReportMesh(ctx context.Context, p *authz.Principal, src audit.Source, r MeshReport) error {
	switch r.Event {
	case MeshSpokeConnected, MeshSpokeDisconnected, MeshClientConnected, MeshClientDisconnected:
	default:
		return invalidField("event", "unknown mesh event")
	}
	remote, err := peerAddr("remoteIp", r.RemoteIP)
	if err != nil {
		return err
	}
	tunnel, err := peerAddr("tunnelIp", r.TunnelIP)
	if err != nil {
		return err
	}
	if len(r.User) > 255 || hasControl(r.User) {
		return invalidField("userId", "userId must be text of at most 255 characters")
	}
	n, err := s.HubNode(ctx, p)
	if err != nil {
		return err
	}
	details := map[string]any{"remote_ip": remote, "tunnel_ip": tunnel}
	if r.User != "" {
		details["user"] = r.User
	}
	if r.Spoke != "" {
		_, gw, found := strings.Cut(r.Spoke, ":")
		if !found {
			gw = r.Spoke
		}
		i := slices.IndexFunc(n.Spokes, func(st MeshSite) bool { return st.Gateway.ID == gw })
		if i < 0 {
			return errSpokeNotFound
		}
		details["spoke_gateway_id"] = gw
	}
	g := n.Gateway
	if err := s.store.InTx(ctx, func(tx Tx) error {
		return audit.Record(ctx, tx, src, g.GroupID, "mesh-hub."+r.Event, gatewayTarget(g.ID), details)
	}); err != nil {
		return err
	}
	s.publish(ctx, "hub."+r.Event, g.GroupID, g.ID)
	return nil
}

// peerAddr validates an optional address a hub reports, bare or with a
// port (OpenVPN's untrusted_ip or its real address), and returns the bare
// address.
func peerAddr(field, s string) (string, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().String(), nil
	}
	return optionalAddr(field, s)
}

// MaxMeshClients bounds one all-client-rules request.
const MaxMeshClients = 1000

// HubClientGrants returns, for each client the hub names (its
// certificate's common name: a username or an email), what it may reach
// through the hub: every enabled rule naming its user for a network behind
// the hub's gateway or one of its sites (gateway spokes' networks, network
// spokes). An unknown client, one of another group, an inactive user, or
// one the members of every hub of the gateway leave out (hubmembers.go)
// gets nothing (default deny).
// Errors: forbidden (not a hub gateway), unauthorized, invalid (too many
// clients).
func (s *Service) HubClientGrants(ctx context.Context, p *authz.Principal, clients []string) (map[string][]Grant, error) {
	if len(clients) > MaxMeshClients {
		return nil, invalidField("clients", "at most "+strconv.Itoa(MaxMeshClients)+" clients per request")
	}
	g, m, hubs, err := s.hubMesh(ctx, p)
	if err != nil {
		return nil, err
	}
	nets := m.hubNetworks(g, hubs)
	out := make(map[string][]Grant, len(clients))
	rd := s.store.Read()
	members := make([][]Member, len(hubs))
	for i, h := range hubs {
		if members[i], err = rd.HubMembers(ctx, h.ID); err != nil {
			return nil, err
		}
	}
	admitted := func(u *identity.User) bool {
		return slices.ContainsFunc(members, func(ms []Member) bool {
			return len(ms) == 0 || slices.ContainsFunc(ms, func(m Member) bool { return m.admits(u) })
		})
	}
	for _, cn := range clients {
		if _, done := out[cn]; done || cn == "" {
			continue
		}
		out[cn] = []Grant{}
		u, err := rd.UserByLogin(ctx, cn)
		if fault.Is(err, fault.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if u.IsActive && u.GroupID == g.GroupID && admitted(u) {
			out[cn] = append(out[cn], m.pol.networkGrants(nets, u)...)
		}
	}
	return out, nil
}

// hubNetworks is the set of networks reachable through hub gateway hg's
// hubs: behind hg, behind a gateway spoke, or a network spoke.
func (m *meshGraph) hubNetworks(hg *Gateway, hubs []*Hub) map[string]bool {
	out := map[string]bool{}
	for _, n := range m.pol.networks {
		if slices.Contains(n.GatewayIDs, hg.ID) {
			out[n.ID] = true
		}
		for _, h := range hubs {
			for _, sp := range h.Spokes {
				if sp.Kind == SpokeNetwork && sp.ID == n.ID || sp.Kind == SpokeGateway && slices.Contains(n.GatewayIDs, sp.ID) {
					out[n.ID] = true
				}
			}
		}
	}
	return out
}
