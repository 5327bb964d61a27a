package mesh

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
	"netkeep/internal/meshwire"
	"netkeep/internal/name"
)

// NetworkFields are the settable fields of a network. For Create, nil means
// the default; for Update, nil means unchanged.
type NetworkFields struct {
	NetID             string // Create only
	GroupID           int64  // Create only: super principals may name a group
	DisplayName       *string
	AddressRange      *string // Create: empty picks a free /24 of 100.64.0.0/10
	AddressRange6     *string
	DefaultListenPort *int
	DefaultKeepalive  *int
	DefaultInterface  *string
	CheckInInterval   *int
	// DefaultCheckInInterval is CheckInInterval under the seed era's name
	// (defaultcheckininterval, which that era's web UI edits). It applies
	// when CheckInInterval is absent or repeats the current value, so a
	// client that sends the whole network back with one of the two edited
	// changes what it edited.
	DefaultCheckInInterval *int
	AllowManualSignUp      *bool
	RequireApproval        *bool
}

// groupLock is the LockScope key serialising range checks within a group.
func groupLock(groupID int64) int64 { return 0x6d657368<<32 | groupID&0xffffffff }

// ListNetworks returns the networks p may see, by NetID. Errors:
// unauthorized, forbidden (no networks:read).
func (s *Service) ListNetworks(ctx context.Context, p *authz.Principal) ([]*Network, error) {
	if err := authz.Allow(p, actNetworksRead, authz.Any); err != nil {
		return nil, err
	}
	scope := p.GroupScope()
	var out []*Network
	for _, st := range s.states() {
		st.mu.RLock()
		n := st.network()
		st.mu.RUnlock()
		if scope == 0 || n.GroupID == scope {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b *Network) int { return strings.Compare(a.NetID, b.NetID) })
	return out, nil
}

// GetNetwork returns one network. Errors: not_found (missing or another
// group's), forbidden.
func (s *Service) GetNetwork(ctx context.Context, p *authz.Principal, netid string) (*Network, error) {
	st := s.state(netid)
	if st == nil {
		if err := authz.Allow(p, actNetworksRead, authz.Any); err != nil {
			return nil, err
		}
		return nil, errNetworkNotFound
	}
	st.mu.RLock()
	n := st.network()
	st.mu.RUnlock()
	if err := allowGroup(p, actNetworksRead, n.GroupID); err != nil {
		return nil, err
	}
	return n, nil
}

// CreateNetwork creates a network in p's group (or, for a super principal,
// in f.GroupID; the master key without one uses the default group). Its
// ranges must not overlap another network of the group; without an
// addressrange it gets the first free /24 of 100.64.0.0/10.
//
// Errors: unauthorized, forbidden (no networks:write), invalid (a field),
// conflict (the netid is taken, or the ranges overlap, named in details).
func (s *Service) CreateNetwork(ctx context.Context, p *authz.Principal, src audit.Source, f NetworkFields) (*Network, error) {
	if err := authz.Allow(p, actNetworksWrite, authz.Any); err != nil {
		return nil, err
	}
	f.NetID = strings.TrimSpace(f.NetID)
	if err := ValidateNetID(f.NetID); err != nil {
		return nil, err
	}
	now := s.stamp()
	n := &Network{
		NetID: f.NetID, DisplayName: f.NetID,
		DefaultListenPort: DefaultListenPort, DefaultKeepalive: DefaultKeepalive,
		DefaultInterface: meshwire.DefaultInterface(f.NetID), CheckInInterval: DefaultCheckInInterval,
		KeyUpdateAt: now, NodesModifiedAt: now, ModifiedAt: now, CreatedAt: now, Revision: 1,
	}
	if err := applyNetworkFields(n, f); err != nil {
		return nil, err
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		gid, err := targetGroup(ctx, tx, p, f.GroupID)
		if err != nil {
			return err
		}
		n.GroupID = gid
		if err := tx.LockScope(ctx, groupLock(gid)); err != nil {
			return err
		}
		if err := checkRanges(ctx, tx, n, f.AddressRange == nil || strings.TrimSpace(*f.AddressRange) == ""); err != nil {
			return err
		}
		if err := tx.CreateNetwork(ctx, n); err != nil {
			if fault.Is(err, fault.Conflict) {
				return conflictField("netid", "network "+n.NetID+" already exists")
			}
			return err
		}
		return audit.Record(ctx, tx, src, n.GroupID, "network.create", networkTarget(n), map[string]any{
			"addressrange": prefixString(n.AddressRange), "addressrange6": prefixString(n.AddressRange6),
		})
	})
	if err != nil {
		return nil, err
	}
	s.applyNetwork(n)
	s.publish(ctx, TopicNetwork, "created", n.GroupID, n.ID, n)
	return n, nil
}

// targetGroup is the group a new network of p goes into.
func targetGroup(ctx context.Context, tx Tx, p *authz.Principal, requested int64) (int64, error) {
	switch {
	case requested != 0 && requested != p.GroupID && !p.IsSuper():
		return 0, invalidField("group_id", "group_id must be your own group")
	case requested != 0:
		if _, err := tx.GroupByID(ctx, requested); err != nil {
			if fault.Is(err, fault.NotFound) {
				return 0, invalidField("group_id", "group does not exist")
			}
			return 0, err
		}
		return requested, nil
	case p.GroupID != 0:
		return p.GroupID, nil
	}
	// The master key belongs to no group: Netmaker scripts using it create
	// networks in the default group, which setup creates.
	g, err := tx.GroupByName(ctx, identity.DefaultGroupName)
	if fault.Is(err, fault.NotFound) {
		return 0, invalidField("group_id", "group_id is required: there is no default group")
	}
	if err != nil {
		return 0, err
	}
	return g.ID, nil
}

// applyNetworkFields sets f's non-nil fields on n after validating them;
// ranges are parsed here and checked against other networks by checkRanges.
func applyNetworkFields(n *Network, f NetworkFields) error {
	if f.DisplayName != nil {
		d := strings.TrimSpace(*f.DisplayName)
		if d == "" {
			d = n.NetID
		}
		if len(d) > MaxDisplayNameLen {
			return invalidField("displayname", "displayname must be at most 100 characters")
		}
		if err := name.Check("displayname", d); err != nil {
			return err
		}
		n.DisplayName = d
	}
	if f.AddressRange != nil && strings.TrimSpace(*f.AddressRange) != "" {
		r, err := parseRange4(*f.AddressRange)
		if err != nil {
			return err
		}
		n.AddressRange = r
	}
	if f.AddressRange6 != nil {
		r, err := parseRange6(*f.AddressRange6)
		if err != nil {
			return err
		}
		n.AddressRange6 = r
	}
	if f.DefaultListenPort != nil {
		if err := validatePort("defaultlistenport", *f.DefaultListenPort); err != nil {
			return err
		}
		n.DefaultListenPort = *f.DefaultListenPort
	}
	if f.DefaultKeepalive != nil {
		if err := validateKeepalive("defaultkeepalive", *f.DefaultKeepalive); err != nil {
			return err
		}
		n.DefaultKeepalive = *f.DefaultKeepalive
	}
	if f.DefaultInterface != nil {
		i := strings.TrimSpace(*f.DefaultInterface)
		if err := validateInterface("defaultinterface", i); err != nil {
			return err
		}
		n.DefaultInterface = i
	}
	if a := f.DefaultCheckInInterval; a != nil && (f.CheckInInterval == nil || *f.CheckInInterval == n.CheckInInterval) {
		f.CheckInInterval = a
	}
	if f.CheckInInterval != nil {
		if *f.CheckInInterval < 2 || *f.CheckInInterval > 100000 {
			return invalidField("checkininterval", "checkininterval must be between 2 and 100000 seconds")
		}
		n.CheckInInterval = *f.CheckInInterval
	}
	if f.AllowManualSignUp != nil {
		n.AllowManualSignUp = *f.AllowManualSignUp
	}
	if f.RequireApproval != nil {
		n.RequireApproval = *f.RequireApproval
	}
	return nil
}

// checkRanges checks n's ranges against the other networks of its group,
// picking a free IPv4 /24 first when pick is set. The caller holds the
// group's lock.
func checkRanges(ctx context.Context, tx Tx, n *Network, pick bool) error {
	others, err := tx.ListNetworks(ctx, n.GroupID)
	if err != nil {
		return err
	}
	var taken []netip.Prefix
	for _, o := range others {
		if o.ID != n.ID {
			taken = append(taken, o.AddressRange)
		}
	}
	if pick {
		r, ok := freeRange24(taken)
		if !ok {
			return conflictField("addressrange", "no free /24 is left in 100.64.0.0/10; give an addressrange")
		}
		n.AddressRange = r
	}
	for _, o := range others {
		if o.ID == n.ID {
			continue
		}
		if overlaps(n.AddressRange, o.AddressRange) {
			return conflictField("addressrange", "addressrange "+n.AddressRange.String()+" overlaps network "+o.NetID+" ("+o.AddressRange.String()+")")
		}
		if overlaps(n.AddressRange6, o.AddressRange6) {
			return conflictField("addressrange6", "addressrange6 "+n.AddressRange6.String()+" overlaps network "+o.NetID+" ("+o.AddressRange6.String()+")")
		}
	}
	return nil
}

// UpdateNetwork changes a network's settings. Its ranges may change only
// while it has no nodes. Errors: as GetNetwork, plus invalid, conflict.
func (s *Service) UpdateNetwork(ctx context.Context, p *authz.Principal, src audit.Source, netid string, f NetworkFields) (*Network, error) {
	if _, err := s.writableNetwork(p, netid); err != nil {
		return nil, err
	}
	var n *Network
	err := s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.NetworkByNetID(ctx, netid)
		if err != nil {
			return notFoundAs(err, errNetworkNotFound)
		}
		if err := allowGroup(p, actNetworksWrite, cur.GroupID); err != nil {
			return err
		}
		next := *cur
		if err := applyNetworkFields(&next, f); err != nil {
			return err
		}
		if next.AddressRange != cur.AddressRange || next.AddressRange6 != cur.AddressRange6 {
			if err := tx.LockScope(ctx, groupLock(cur.GroupID)); err != nil {
				return err
			}
			count, err := tx.CountNodes(ctx, cur.ID)
			if err != nil {
				return err
			}
			if count > 0 {
				return conflictField("addressrange", "the address ranges of a network with nodes cannot change; delete its nodes first")
			}
			if err := checkRanges(ctx, tx, &next, false); err != nil {
				return err
			}
		}
		next.ModifiedAt = s.stamp()
		if err := tx.UpdateNetwork(ctx, &next); err != nil {
			return err
		}
		n = &next
		return audit.Record(ctx, tx, src, n.GroupID, "network.update", networkTarget(n), changedNetworkFields(f))
	})
	if err != nil {
		return nil, err
	}
	s.applyNetwork(n)
	s.publish(ctx, TopicNetwork, "updated", n.GroupID, n.ID, n)
	return s.GetNetwork(ctx, p, netid)
}

// KeyUpdate asks every node of the network to generate a new key pair and
// publish its public half: streams get a keyupdate message, and nodes whose
// key predates it show needkeyupdate. Errors: as UpdateNetwork.
func (s *Service) KeyUpdate(ctx context.Context, p *authz.Principal, src audit.Source, netid string) (*Network, error) {
	if _, err := s.writableNetwork(p, netid); err != nil {
		return nil, err
	}
	var n *Network
	var server *Node // the server's own node, rotated with the network
	err := s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.NetworkByNetID(ctx, netid)
		if err != nil {
			return notFoundAs(err, errNetworkNotFound)
		}
		if err := allowGroup(p, actNetworksWrite, cur.GroupID); err != nil {
			return err
		}
		now := s.stamp()
		cur.KeyUpdateAt, cur.ModifiedAt = now, now
		if err := tx.UpdateNetwork(ctx, cur); err != nil {
			return err
		}
		n = cur
		if server, err = s.rotateServerKey(ctx, tx, n, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, n.GroupID, "network.keyupdate", networkTarget(n), nil)
	})
	if err != nil {
		return nil, err
	}
	s.applyNetwork(n)
	s.publish(ctx, TopicNetwork, "updated", n.GroupID, n.ID, n)
	if server != nil {
		s.applyNode(server)
		s.publish(ctx, TopicNode, "updated", server.GroupID, server.ID, server)
	}
	return s.GetNetwork(ctx, p, netid)
}

// DeleteNetwork deletes a network and its access keys. Errors: as
// UpdateNetwork; conflict while it has nodes.
func (s *Service) DeleteNetwork(ctx context.Context, p *authz.Principal, src audit.Source, netid string) error {
	if _, err := s.writableNetwork(p, netid); err != nil {
		return err
	}
	var n *Network
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if n, err = tx.NetworkByNetID(ctx, netid); err != nil {
			return notFoundAs(err, errNetworkNotFound)
		}
		if err := allowGroup(p, actNetworksWrite, n.GroupID); err != nil {
			return err
		}
		count, err := tx.CountNodes(ctx, n.ID)
		if err != nil {
			return err
		}
		if count > 0 {
			return fault.Errorf(fault.Conflict, "network %s still has %d nodes; delete them first (DELETE /api/nodes/%s/{macaddress})", n.NetID, count, n.NetID).
				WithReason(ReasonNetworkHasNodes).WithDetails(map[string]any{"nodes": count})
		}
		if err := tx.DeleteNetwork(ctx, n.ID); err != nil {
			return notFoundAs(err, errNetworkNotFound)
		}
		return audit.Record(ctx, tx, src, n.GroupID, "network.delete", networkTarget(n), nil)
	})
	if err != nil {
		return err
	}
	s.dropNetwork(n.ID)
	s.publish(ctx, TopicNetwork, "deleted", n.GroupID, n.ID, map[string]any{"NetID": n.NetID})
	return nil
}

// writableNetwork checks, from memory, that p may change netid, so callers
// without the right fail before a transaction.
func (s *Service) writableNetwork(p *authz.Principal, netid string) (*netState, error) {
	if err := authz.Allow(p, actNetworksWrite, authz.Any); err != nil {
		return nil, err
	}
	st := s.state(netid)
	if st == nil {
		return nil, errNetworkNotFound
	}
	st.mu.RLock()
	gid := st.net.GroupID
	st.mu.RUnlock()
	return st, allowGroup(p, actNetworksWrite, gid)
}

func changedNetworkFields(f NetworkFields) map[string]any {
	var names []string
	add := func(set bool, name string) {
		if set {
			names = append(names, name)
		}
	}
	add(f.DisplayName != nil, "displayname")
	add(f.AddressRange != nil, "addressrange")
	add(f.AddressRange6 != nil, "addressrange6")
	add(f.DefaultListenPort != nil, "defaultlistenport")
	add(f.DefaultKeepalive != nil, "defaultkeepalive")
	add(f.DefaultInterface != nil, "defaultinterface")
	add(f.CheckInInterval != nil || f.DefaultCheckInInterval != nil, "checkininterval")
	add(f.AllowManualSignUp != nil, "allowmanualsignup")
	add(f.RequireApproval != nil, "requireapproval")
	return map[string]any{"fields": names}
}

// notFoundAs replaces a not_found error with want.
func notFoundAs(err, want error) error {
	if fault.Is(err, fault.NotFound) {
		return want
	}
	return err
}

// applyNetwork brings this replica's state up to n. Network IDs only grow,
// so of two networks with one NetID the higher ID is the current one.
func (s *Service) applyNetwork(n *Network) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if _, dead := s.netTombs[n.ID]; dead {
		s.mu.Unlock()
		return
	}
	st := s.byID[n.ID]
	if st == nil {
		var replaced *netState
		if old := s.byNetID[n.NetID]; old != nil {
			if old.id > n.ID {
				s.mu.Unlock()
				return // a late event about a network since replaced
			}
			replaced = old
			delete(s.byID, old.id)
		}
		st = newNetState(n, s.buffer)
		s.byID[n.ID], s.byNetID[n.NetID] = st, st
		s.mu.Unlock()
		if replaced != nil {
			replaced.mu.Lock()
			replaced.endAll(EndDeleted)
			replaced.mu.Unlock()
		}
		return
	}
	s.mu.Unlock()
	st.mu.Lock()
	st.setNetwork(n)
	st.unlock()
}

// dropNetwork removes a deleted network's state and ends its streams.
func (s *Service) dropNetwork(id int64) {
	s.mu.Lock()
	s.netTombs[id] = s.now()
	st := s.byID[id]
	if st != nil {
		delete(s.byID, id)
		if s.byNetID[st.netid] == st {
			delete(s.byNetID, st.netid)
		}
	}
	s.mu.Unlock()
	if st != nil {
		st.mu.Lock()
		st.endAll(EndDeleted)
		st.mu.Unlock()
	}
}
