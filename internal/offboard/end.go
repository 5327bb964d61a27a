package offboard

import (
	"context"
	"errors"
	"sync"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
	"netkeep/internal/identity"
	"netkeep/internal/pki"
	"netkeep/internal/psk"
	"netkeep/internal/radius/nas"
	"netkeep/internal/vpnconfig"
)

// cutReason is the reason gateway session cuts and revocations carry.
const cutReason = "offboarded"

var errSelf = fault.New(fault.Invalid, "you cannot offboard yourself")

// Offboard ends everything user id holds (or, with DryRun, lists what it
// would end) and returns each item with its enforcement state. The order
// closes the doors before the rooms: the account and its credentials first
// (no new sign-in, API call or device request), then WiFi, mesh and VPN
// credentials, then the live sessions they carried (gateway cuts, then the
// NASes, the slowest). Each item is ended by its facet's service (its own
// audit entry and push); one summary entry "user.offboard" closes the
// operation. A failing item does not stop the others; it is reported
// Failed, and calling again finishes the job: offboarding an offboarded
// user changes nothing and writes nothing.
//
// Errors: not_found (no such user, or another group's), forbidden (p may
// not change users), invalid (p is the user), unauthorized.
func (s *Service) Offboard(ctx context.Context, p *authz.Principal, src audit.Source, id int64, o Options) (*Report, error) {
	u, err := s.users.GetUser(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := authz.Allow(p, "users:write", authz.Resource{GroupID: u.GroupID}); err != nil {
		return nil, err
	}
	if p.ActsForUser() && p.UserID == u.ID {
		return nil, errSelf
	}
	start := s.now().UTC()
	h, err := s.gather(ctx, p, u)
	if err != nil {
		return nil, err
	}
	r := &Report{User: u, DryRun: o.DryRun, Started: start}
	if o.DryRun {
		r.Items, r.Finished = h.items(), s.now().UTC()
		return r, nil
	}
	e := &enforcement{s: s, p: p, src: src}
	e.account(ctx, h, o.DeleteUser)
	e.wifi(ctx, h)
	e.mesh(ctx, h)
	e.vpn(ctx, h)
	e.radius(ctx, h)
	if o.DeleteUser && !e.failed {
		e.deleteUser(ctx, u)
	}
	r.Enforced, r.Items, r.Finished = true, e.items, s.now().UTC()
	if e.changed {
		if err := s.summarize(ctx, src, u, r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// summarize writes the operation's summary entry.
func (s *Service) summarize(ctx context.Context, src audit.Source, u *identity.User, r *Report) error {
	counts := map[string]int{}
	for f, n := range r.Counts() {
		counts[string(f)] = n
	}
	d := map[string]any{"username": u.Username, "items": counts, "failures": r.Failures(),
		"duration_ms": r.Finished.Sub(r.Started).Milliseconds()}
	return s.store.InTx(ctx, func(tx Tx) error {
		return audit.Record(ctx, tx, src, u.GroupID, "user.offboard", "user:"+itoa(u.ID), d)
	})
}

// enforcement collects the items of one offboarding as they end.
type enforcement struct {
	s       *Service
	p       *authz.Principal
	src     audit.Source
	mu      sync.Mutex
	items   []Item
	changed bool // something ended
	failed  bool // something could not be ended
}

// done records one item's outcome; err, when not nil, makes it Failed with
// a safe message (the cause goes to the log).
func (e *enforcement) done(it Item, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		it.State, it.Detail, e.failed = Failed, safeMessage(err), true
		e.s.log.Warn("offboarding an item failed", "facet", it.Facet, "id", it.ID, "error", err)
	} else if it.State != Active && it.State != CutSent {
		// A cut changes nothing stored: the session stays live until its
		// gateway reports it closed, and a second offboarding sends the
		// cut again.
		e.changed = true
	}
	it.EndedAt = e.s.now().UTC()
	e.items = append(e.items, it)
}

// safeMessage is err's client-safe text: a fault's message, else a
// generic one.
func safeMessage(err error) string {
	var f *fault.Error
	if errors.As(err, &f) && f.Code != fault.Internal {
		return f.Message
	}
	return "internal error"
}

// account disables the user (which ends its sign-in sessions), then revokes
// its API keys and devices.
func (e *enforcement) account(ctx context.Context, h *holdings, deleting bool) {
	u := h.user
	it := Item{Facet: FacetUser, ID: itoa(u.ID), Name: u.Username, State: Disabled}
	if u.IsActive {
		off := false
		_, err := e.s.users.UpdateUser(ctx, e.p, e.src, u.ID, identity.UserPatch{IsActive: &off})
		if err == nil {
			u.IsActive = false
		}
		if !deleting || err != nil {
			e.done(it, err)
		}
		for _, x := range h.sessions {
			e.done(Item{Facet: FacetSession, ID: x.ID, Name: x.IP, State: Ended}, err)
		}
	} else if !deleting {
		e.mu.Lock()
		e.items = append(e.items, it) // already disabled: nothing changed
		e.mu.Unlock()
	}
	for _, k := range h.keys {
		_, err := e.s.keys.Revoke(ctx, e.p, e.src, k.ID)
		e.done(Item{Facet: FacetAPIKey, ID: k.ID, Name: k.Name, State: Revoked}, err)
	}
	for _, d := range h.devices {
		_, err := e.s.devices.Revoke(ctx, e.p, e.src, d.ID)
		e.done(Item{Facet: FacetDevice, ID: d.ID, Name: d.Name, State: Revoked}, notFoundIsDone(err))
	}
}

// wifi disables the user's PSKs and unbinds their stations; a station
// without a binding is refused at its next association.
func (e *enforcement) wifi(ctx context.Context, h *holdings) {
	off := false
	for _, k := range h.psks {
		_, err := e.s.psks.Update(ctx, e.p, e.src, k.ID, psk.Patch{Enabled: &off})
		e.done(Item{Facet: FacetPSK, ID: itoa(k.ID), Name: k.PSKID, State: Disabled}, err)
	}
	for _, ep := range h.endpoints {
		err := e.s.psks.DeleteEndpoint(ctx, e.p, e.src, ep.ID)
		e.done(Item{Facet: FacetEndpoint, ID: itoa(ep.ID), Name: ep.MAC, State: Unbound}, notFoundIsDone(err))
	}
}

// mesh removes the user's nodes: every peer's stream gets the removal, and
// the node's credentials stop working with its record.
func (e *enforcement) mesh(ctx context.Context, h *holdings) {
	for _, n := range h.nodes {
		err := e.s.mesh.DeleteNode(ctx, e.p, e.src, n.Network, n.MAC)
		e.done(nodeItem(n, Removed), notFoundIsDone(err))
	}
}

// vpn revokes every certificate of the user in one transaction (one CRL),
// then the configurations (erasing their keys; WireGuard peers leave their
// gateways), then cuts the live sessions on their gateways.
func (e *enforcement) vpn(ctx context.Context, h *holdings) {
	if len(h.certs) > 0 && e.s.certs != nil {
		revoked, err := e.s.certs.RevokeOwned(ctx, e.src, pki.Owner{UserID: h.user.ID}, pki.PrivilegeWithdrawn)
		seen := map[pki.Serial]bool{}
		for _, c := range revoked {
			seen[c.Serial] = true
			e.done(Item{Facet: FacetCertificate, ID: string(c.Serial), Name: c.CommonName, State: Revoked}, nil)
		}
		for _, c := range h.certs {
			if !seen[c.Serial] { // revoked meanwhile, or the revocation failed
				e.done(Item{Facet: FacetCertificate, ID: string(c.Serial), Name: c.CommonName, State: Revoked}, err)
			}
		}
	}
	e.revokeConfigs(ctx, h.configs, pki.PrivilegeWithdrawn)
	for _, v := range h.vpnSessions {
		e.done(Item{Facet: FacetVPNSession, ID: v.ID, Name: v.CommonName, State: CutSent}, e.s.cut(ctx, v))
	}
}

// revokeConfigs revokes each configuration (its certificate onto the CRL,
// its key erased; a WireGuard peer leaves its gateway) for reason.
func (e *enforcement) revokeConfigs(ctx context.Context, cfgs []*vpnconfig.Config, reason pki.Reason) {
	for _, c := range cfgs {
		_, err := e.s.configs.Revoke(ctx, e.p, e.src, c.ID, string(reason))
		e.done(Item{Facet: FacetVPNConfig, ID: c.ID, Name: c.GatewayID, State: Revoked}, err)
	}
}

// cut publishes gateway.ActionSessionCut for v; the gateway's
// remote-session channel relays it to its agent.
func (s *Service) cut(ctx context.Context, v *gateway.Session) error {
	if s.bus == nil {
		return fault.New(fault.Unavailable, "no event bus to reach the gateway")
	}
	ev, err := gateway.CutEvent(v, cutReason)
	if err != nil {
		return err
	}
	return s.bus.Publish(ctx, ev)
}

// radius asks the NAS of every live session of the user's stations to end
// it, one station per goroutine (each NAS retries on its own), and reports
// each answer; the nas service audits every answer.
func (e *enforcement) radius(ctx context.Context, h *holdings) {
	if e.s.nas == nil || len(h.radius) == 0 {
		return
	}
	macs := map[string]bool{}
	for _, r := range h.radius {
		macs[r.MAC] = true
	}
	var wg sync.WaitGroup
	for mac := range macs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.s.nas.Disconnect(ctx, e.p, e.src, nas.SessionFilter{MAC: mac})
			if err != nil {
				for _, r := range h.radius {
					if r.MAC == mac {
						e.done(radiusItem(r, Failed), err)
					}
				}
				return
			}
			for _, x := range res {
				it := radiusItem(x.Session, daeState(x.Outcome))
				it.Attempts = x.Attempts
				if x.ErrorCause != 0 {
					it.Detail = "Error-Cause " + itoa(int64(x.ErrorCause))
				}
				e.done(it, nil)
			}
		}()
	}
	wg.Wait()
}

func daeState(o nas.DAEOutcome) State {
	switch o {
	case nas.DAEAck:
		return DAEAck
	case nas.DAENak:
		return DAENak
	case nas.DAETimeout:
		return DAETimeout
	case nas.DAEUnreachable:
		return DAEUnreachable
	}
	return DAENotSent
}

// deleteUser deletes the user once everything else ended.
func (e *enforcement) deleteUser(ctx context.Context, u *identity.User) {
	err := e.s.users.DeleteUser(ctx, e.p, e.src, u.ID)
	e.done(Item{Facet: FacetUser, ID: itoa(u.ID), Name: u.Username, State: Deleted}, err)
}

// notFoundIsDone treats an item that vanished meanwhile (another
// administrator, a concurrent offboarding) as ended.
func notFoundIsDone(err error) error {
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	return err
}
