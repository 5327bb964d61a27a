package gateway

import (
	"context"
	"slices"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// A hub's members are who may connect to it as VPN clients, GateKey's hub
// users and groups. A hub with members gives its clients' rules
// (HubClientGrants) and its use (UsableHubs) only to them: the users
// named, and every user of a group named (only the hub's own group can
// be). A hub without members is governed by the access rules alone. Either
// way a member reaches nothing without an access rule.

// MemberKind is what a hub member is.
type MemberKind string

// The member kinds.
const (
	MemberUser  MemberKind = "user"
	MemberGroup MemberKind = "group"
)

// Member is one member of a hub: a user or a group, by id; Name (a
// username or a group's name) is filled when read, and names a group to
// add or remove when ID is 0.
type Member struct {
	Kind MemberKind
	ID   int64
	Name string
}

func (m Member) admits(u *identity.User) bool {
	return m.Kind == MemberUser && m.ID == u.ID || m.Kind == MemberGroup && m.ID == u.GroupID
}

var errMemberNotFound = fault.New(fault.NotFound, "no such hub member")

// HubMembers lists a hub's members with their names, users first.
// Errors: forbidden, not_found.
func (s *Service) HubMembers(ctx context.Context, p *authz.Principal, hubID string) ([]Member, error) {
	h, err := s.AdminHub(ctx, p, hubID)
	if err != nil {
		return nil, err
	}
	rd := s.store.Read()
	ms, err := rd.HubMembers(ctx, h.ID)
	if err != nil {
		return nil, err
	}
	for i, m := range ms {
		switch m.Kind {
		case MemberUser:
			if u, err := rd.UserByID(ctx, m.ID); err == nil {
				ms[i].Name = u.Username
			}
		case MemberGroup:
			if g, err := rd.GroupByID(ctx, m.ID); err == nil {
				ms[i].Name = g.Name
			}
		}
	}
	return ms, nil
}

// resolveMember checks that m names a user of the hub's group, or that
// group itself (by id or name), and returns it by id. Errors: not_found.
func resolveMember(ctx context.Context, tx Tx, h *Hub, m Member) (Member, error) {
	switch m.Kind {
	case MemberUser:
		u, err := tx.UserByID(ctx, m.ID)
		if err != nil || u.GroupID != h.GroupID {
			return m, notFoundAs(orNotFound(err), fault.New(fault.NotFound, "user not found").WithDetails(map[string]any{"field": "userId"}))
		}
	case MemberGroup:
		g, err := tx.GroupByID(ctx, h.GroupID)
		if err != nil {
			return m, err
		}
		if m.ID != g.ID && (m.ID != 0 || m.Name != g.Name) {
			return m, fault.New(fault.NotFound, "group not found: a hub's members come from its own group").
				WithDetails(map[string]any{"field": "groupName"})
		}
		m.ID = g.ID
	default:
		return m, invalidField("kind", "a hub member is a user or a group")
	}
	return m, nil
}

// orNotFound is err, or a not_found fault when err is nil (the object
// exists but is out of reach).
func orNotFound(err error) error {
	if err == nil {
		return fault.New(fault.NotFound, "not found")
	}
	return err
}

// AddHubMember makes m a member of the hub (audited as
// mesh-hub.member_add); adding a member again changes nothing and
// succeeds. Errors: forbidden, not_found (hub, user, group), invalid.
func (s *Service) AddHubMember(ctx context.Context, p *authz.Principal, src audit.Source, hubID string, m Member) error {
	return s.changeMembers(ctx, p, src, hubID, m, func(tx Tx, h *Hub, m Member) (string, error) {
		added, err := tx.InsertHubMember(ctx, h.ID, m)
		if err != nil || !added {
			return "", err
		}
		return "mesh-hub.member_add", nil
	})
}

// RemoveHubMember removes m from the hub's members (audited as
// mesh-hub.member_remove). Errors: forbidden, not_found (hub, member).
func (s *Service) RemoveHubMember(ctx context.Context, p *authz.Principal, src audit.Source, hubID string, m Member) error {
	return s.changeMembers(ctx, p, src, hubID, m, func(tx Tx, h *Hub, m Member) (string, error) {
		if err := tx.DeleteHubMember(ctx, h.ID, m); err != nil {
			return "", notFoundAs(err, errMemberNotFound)
		}
		return "mesh-hub.member_remove", nil
	})
}

// changeMembers runs change on the hub's members in one transaction with
// the check that p administers the hub, and audits the action it names
// ("" for no change).
func (s *Service) changeMembers(ctx context.Context, p *authz.Principal, src audit.Source, hubID string, m Member,
	change func(tx Tx, h *Hub, m Member) (string, error)) error {
	var (
		h      *Hub
		action string
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if h, err = tx.MeshHubByID(ctx, hubID); err != nil {
			return notFoundAs(err, errHubNotFound)
		}
		if err := allowAdmin(p, actGatewaysWrite, h.GroupID, errHubNotFound); err != nil {
			return err
		}
		if m, err = resolveMember(ctx, tx, h, m); err != nil {
			return err
		}
		if action, err = change(tx, h, m); err != nil || action == "" {
			return err
		}
		return audit.Record(ctx, tx, src, h.GroupID, action, hubTarget(h.ID), map[string]any{"kind": m.Kind, "member_id": m.ID})
	})
	if err == nil && action != "" {
		s.publish(ctx, "hub.members", h.GroupID, h.ID)
	}
	return err
}

// hubAdmits reports whether u may use hub h as its members say: any user
// when it has none.
func hubAdmits(ctx context.Context, tx Tx, h *Hub, u *identity.User) (bool, error) {
	ms, err := tx.HubMembers(ctx, h.ID)
	if err != nil {
		return false, err
	}
	return len(ms) == 0 || slices.ContainsFunc(ms, func(m Member) bool { return m.admits(u) }), nil
}
