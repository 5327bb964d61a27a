package geo

import (
	"context"
	"net/netip"
	"strconv"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// ReasonBlocked is the reason of a refusal: the address's country is
// fenced out for the user's group.
const ReasonBlocked fault.Reason = "geo_blocked"

// Where a client is checked, as the audit entry of a refusal names it.
const (
	AtLogin   = "login"
	AtGateway = "gateway"
)

// Subject is who is being admitted.
type Subject struct {
	GroupID  int64
	UserID   int64
	Username string
	Where    string // AtLogin, AtGateway
	// Gateway is the gateway that saw the client (AtGateway).
	Gateway string
}

// policyFor returns the policy in force for groupID: its own, else the
// server-wide one.
func policyFor(ctx context.Context, rd Tx, groupID int64) (Policy, string, error) {
	gp, err := rd.GroupGeoFence(ctx, groupID)
	if err == nil {
		return gp.Policy, "group", nil
	}
	if !fault.Is(err, fault.NotFound) {
		return Policy{}, "", err
	}
	g, err := rd.GeoFence(ctx)
	if err != nil {
		return Policy{}, "", err
	}
	return *g, "global", nil
}

// country locates addr; "" when it is unknown (no database, a private or
// malformed address, an address the database lacks).
func (s *Service) country(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || s.loc == nil {
		return ""
	}
	c, err := s.loc.Country(a.Unmap())
	if err != nil {
		s.log.Warn("geo-fence: locating an address", "error", err)
		return ""
	}
	return c
}

// Admit decides whether who may sign in or connect from addr (the address
// the client came from, as netkeep or the gateway saw it). An empty addr
// is not checked: there is nothing to locate. A refusal is audited (with
// the country, the address and where) in its own transaction.
// Errors: forbidden (reason geo_blocked, details {"country"}).
func (s *Service) Admit(ctx context.Context, who Subject, addr string) error {
	if addr == "" {
		return nil
	}
	pol, scope, err := policyFor(ctx, s.store.Read(), who.GroupID)
	if err != nil || !pol.Enabled {
		return err
	}
	c := s.country(addr)
	if pol.Admits(c) {
		return nil
	}
	shown := c
	if shown == "" {
		shown = "unknown"
	}
	details := map[string]any{"country": shown, "ip": addr, "where": who.Where, "policy": scope,
		"user_id": who.UserID, "username": who.Username}
	if who.Gateway != "" {
		details["gateway_id"] = who.Gateway
	}
	src := audit.Source{Actor: "user:" + strconv.FormatInt(who.UserID, 10), IP: addr}
	if err := s.store.InTx(ctx, func(tx Tx) error {
		return audit.Record(ctx, tx, src, who.GroupID, "geo-fence.deny", "user:"+strconv.FormatInt(who.UserID, 10), details)
	}); err != nil {
		s.log.Error("geo-fence: auditing a refusal", "error", err)
	}
	return fault.New(fault.Forbidden, "access from this country ("+shown+") is not allowed").
		WithReason(ReasonBlocked).WithDetails(map[string]any{"country": shown})
}

// Verdict is what Check reports of an address.
type Verdict struct {
	Address string
	Country string // "" when unknown
	GroupID int64
	Policy  string // "group" or "global": which policy decided
	Allowed bool
}

// Check reports what the policy in force for groupID (p's own group for
// 0, or when p is not a super administrator) would decide for addr, without
// auditing: an administrator's test. Errors: invalid (addr), forbidden,
// unauthorized.
func (s *Service) Check(ctx context.Context, p *authz.Principal, groupID int64, addr string) (*Verdict, error) {
	if err := allowRead(p); err != nil {
		return nil, err
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, invalid("ip", "ip must be an IP address")
	}
	if groupID == 0 || (!p.IsSuper() && p.Kind != authz.KindMaster) {
		groupID = p.GroupID
	}
	pol, scope, err := policyFor(ctx, s.store.Read(), groupID)
	if err != nil {
		return nil, err
	}
	c := s.country(a.String())
	return &Verdict{Address: a.Unmap().String(), Country: c, GroupID: groupID, Policy: scope, Allowed: pol.Admits(c)}, nil
}

// AdmitLogin is Admit for a login from addr; it is identity's login gate.
func (s *Service) AdmitLogin(ctx context.Context, u *identity.User, addr string) error {
	return s.Admit(ctx, Subject{GroupID: u.GroupID, UserID: u.ID, Username: u.Username, Where: AtLogin}, addr)
}

// AdmitGateway is Admit for a VPN client of gatewayID whose address the
// gateway saw; it is the gateway domain's address gate.
func (s *Service) AdmitGateway(ctx context.Context, u *identity.User, gatewayID, addr string) error {
	return s.Admit(ctx, Subject{GroupID: u.GroupID, UserID: u.ID, Username: u.Username, Where: AtGateway, Gateway: gatewayID}, addr)
}
