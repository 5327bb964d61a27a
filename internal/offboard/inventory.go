package offboard

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"netkeep/internal/apikey"
	"netkeep/internal/authz"
	"netkeep/internal/device"
	"netkeep/internal/gateway"
	"netkeep/internal/identity"
	"netkeep/internal/mesh"
	"netkeep/internal/pki"
	"netkeep/internal/psk"
	"netkeep/internal/radius/nas"
	"netkeep/internal/vpnconfig"
)

// holdings is everything a user holds that still grants access.
type holdings struct {
	user        *identity.User
	sessions    []*identity.Session
	keys        []*apikey.Key
	devices     []*device.Device
	psks        []*psk.PSK
	endpoints   []*psk.Endpoint
	nodes       []*mesh.Node
	certs       []*pki.Certificate
	configs     []*vpnconfig.Config
	vpnSessions []*gateway.Session
	radius      []*nas.Session
}

// Access returns what user id can reach right now, every item Active (the
// user itself Active or Disabled). It is an administrator's view (the
// right to change the user, users:write): a person's whole inventory is
// not for their peers. Errors: not_found (no such user, or one p may not
// see), forbidden, unauthorized.
func (s *Service) Access(ctx context.Context, p *authz.Principal, id int64) (*Report, error) {
	u, err := s.users.GetUser(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := authz.Allow(p, "users:write", authz.Resource{GroupID: u.GroupID}); err != nil {
		return nil, err
	}
	h, err := s.gather(ctx, p, u)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	return &Report{User: u, Items: h.items(), Started: now, Finished: now}, nil
}

// gather reads u's holdings, facet by facet, through p's eyes: a facet p
// may not read is an error, so an inventory is never silently partial.
func (s *Service) gather(ctx context.Context, p *authz.Principal, u *identity.User) (*holdings, error) {
	h := &holdings{user: u}
	now := s.now()
	rd := s.store.Read()
	var err error
	if h.sessions, err = rd.LiveSessionsOfUser(ctx, u.ID, now); err != nil {
		return nil, fmt.Errorf("listing sessions: %w", err)
	}
	if s.keys != nil {
		keys, err := s.keys.List(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("listing API keys: %w", err)
		}
		for _, k := range keys {
			if k.CreatedBy == u.ID && k.RevokedAt == nil && (k.ExpiresAt == nil || now.Before(*k.ExpiresAt)) {
				h.keys = append(h.keys, k)
			}
		}
	}
	if s.devices != nil {
		devs, _, err := s.devices.List(ctx, p, device.Page{Limit: -1})
		if err != nil {
			return nil, fmt.Errorf("listing devices: %w", err)
		}
		for _, d := range devs {
			if d.UserID == u.ID && d.RevokedAt == nil {
				h.devices = append(h.devices, d)
			}
		}
	}
	if s.psks != nil {
		if err := s.gatherWiFi(ctx, p, u, h); err != nil {
			return nil, err
		}
	}
	if s.mesh != nil {
		nodes, _, err := s.mesh.ListNodes(ctx, p, "")
		if err != nil {
			return nil, fmt.Errorf("listing mesh nodes: %w", err)
		}
		for _, n := range nodes {
			if n.OwnerID == u.ID {
				h.nodes = append(h.nodes, n)
			}
		}
	}
	if h.certs, err = rd.UnrevokedCertificates(ctx, pki.Owner{UserID: u.ID}, 0, now); err != nil {
		return nil, fmt.Errorf("listing certificates: %w", err)
	}
	if s.configs != nil {
		if h.configs, err = s.liveConfigs(ctx, p, u.ID, now); err != nil {
			return nil, err
		}
	}
	if s.gateways != nil {
		sess, _, err := s.gateways.Sessions(ctx, p, gateway.SessionQuery{ActiveOnly: true})
		if err != nil {
			return nil, fmt.Errorf("listing VPN sessions: %w", err)
		}
		for _, v := range sess {
			if v.UserID == u.ID && v.Active() {
				h.vpnSessions = append(h.vpnSessions, v)
			}
		}
	}
	return h, nil
}

// gatherWiFi reads the PSKs u created, the stations bound to them and the
// stations' live accounting sessions.
func (s *Service) gatherWiFi(ctx context.Context, p *authz.Principal, u *identity.User, h *holdings) error {
	mine := map[int64]bool{}
	all := map[int64]bool{} // u's PSKs, disabled ones too: their stations are still bound
	err := s.psks.EachPSK(ctx, u.GroupID, func(k *psk.PSK) error {
		if k.CreatedBy != u.ID {
			return nil
		}
		all[k.ID] = true
		if k.Enabled {
			k.Passphrase = ""
			h.psks = append(h.psks, k)
			mine[k.ID] = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing PSKs: %w", err)
	}
	if len(all) == 0 {
		return nil
	}
	err = s.psks.EachEndpoint(ctx, u.GroupID, func(e *psk.Endpoint) error {
		if all[e.PSKID] {
			h.endpoints = append(h.endpoints, e)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing endpoints: %w", err)
	}
	if s.nas == nil {
		return nil
	}
	for _, e := range h.endpoints {
		sess, _, err := s.nas.Sessions(ctx, p, nas.SessionFilter{MAC: e.MAC, Limit: nas.MaxDisconnect})
		if err != nil {
			return fmt.Errorf("listing RADIUS sessions: %w", err)
		}
		h.radius = append(h.radius, sess...)
	}
	return nil
}

// items lists h as report items, in the facets' order.
func (h *holdings) items() []Item {
	var out []Item
	if h.user != nil {
		st := Active
		if !h.user.IsActive {
			st = Disabled
		}
		out = append(out, Item{Facet: FacetUser, ID: itoa(h.user.ID), Name: h.user.Username, State: st})
	}
	for _, x := range h.sessions {
		out = append(out, Item{Facet: FacetSession, ID: x.ID, Name: x.IP, State: Active})
	}
	for _, k := range h.keys {
		out = append(out, Item{Facet: FacetAPIKey, ID: k.ID, Name: k.Name, State: Active})
	}
	for _, d := range h.devices {
		out = append(out, Item{Facet: FacetDevice, ID: d.ID, Name: d.Name, State: Active})
	}
	for _, k := range h.psks {
		out = append(out, Item{Facet: FacetPSK, ID: itoa(k.ID), Name: k.PSKID, State: Active})
	}
	for _, e := range h.endpoints {
		out = append(out, Item{Facet: FacetEndpoint, ID: itoa(e.ID), Name: e.MAC, State: Active})
	}
	for _, n := range h.nodes {
		out = append(out, nodeItem(n, Active))
	}
	for _, c := range h.certs {
		out = append(out, Item{Facet: FacetCertificate, ID: string(c.Serial), Name: c.CommonName, State: Active})
	}
	for _, c := range h.configs {
		out = append(out, Item{Facet: FacetVPNConfig, ID: c.ID, Name: c.GatewayID, State: Active})
	}
	for _, v := range h.vpnSessions {
		out = append(out, Item{Facet: FacetVPNSession, ID: v.ID, Name: v.CommonName, State: Active})
	}
	for _, r := range h.radius {
		out = append(out, radiusItem(r, Active))
	}
	return out
}

func nodeItem(n *mesh.Node, st State) Item {
	return Item{Facet: FacetMeshNode, ID: n.Network + "/" + n.MAC, Name: n.Name, State: st}
}

func radiusItem(r *nas.Session, st State) Item {
	return Item{Facet: FacetRadiusSession, ID: itoa(r.ClientID) + "/" + r.SessionID, Name: r.MAC, State: st}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// liveConfigs returns user id's VPN configurations that still grant access:
// neither revoked nor expired.
func (s *Service) liveConfigs(ctx context.Context, p *authz.Principal, id int64, now time.Time) ([]*vpnconfig.Config, error) {
	cfgs, _, err := s.configs.List(ctx, p, vpnconfig.Query{UserID: id})
	if err != nil {
		return nil, fmt.Errorf("listing VPN configurations: %w", err)
	}
	var live []*vpnconfig.Config
	for _, c := range cfgs {
		if !c.Revoked() && now.Before(c.ExpiresAt) {
			live = append(live, c)
		}
	}
	return live, nil
}
