package mesh

import (
	"cmp"
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// JoinFields are what a joining node sends. Only MAC and PublicKey are
// required; Address and Address6 ask for specific addresses.
type JoinFields struct {
	AccessKey           string
	MAC                 string
	PublicKey           string
	Name                string
	Endpoint            string
	ListenPort          int
	LocalAddress        string
	Password            string
	PersistentKeepalive *int
	Interface           string
	OS                  string
	Address             string
	Address6            string
}

// NodePatch is a node update; nil fields are unchanged. A node may change
// its own fields except its addresses, which only administrators assign.
type NodePatch struct {
	Name                *string
	PublicKey           *string
	Endpoint            *string
	ListenPort          *int
	LocalAddress        *string
	Password            *string
	PersistentKeepalive *int
	Interface           *string
	OS                  *string
	Address             *string
	Address6            *string
}

// joinAttempts bounds retries when another replica takes the address this
// one picked.
const joinAttempts = 8

var errKeyRequired = fault.New(fault.Unauthorized, "an access key is required to join this network")

// Join creates a node. The access key alone authorises it (p may be nil);
// without a key, an administrator's credential (nodes:write) creates an
// approved node, and on a network allowing manual sign-up anyone creates a
// pending one. On a network requiring approval every keyed join is pending.
// The node gets the next free address of each range (or the one asked for).
//
// Errors: not_found (network), unauthorized (no usable key or credential),
// invalid (a field), conflict (MAC, public key or address taken; range full).
func (s *Service) Join(ctx context.Context, p *authz.Principal, src audit.Source, netid string, in JoinFields) (*Node, *Network, error) {
	st := s.state(netid)
	if st == nil {
		return nil, nil, errNetworkNotFound
	}
	st.mu.RLock()
	net := st.network()
	st.mu.RUnlock()

	var keyHashed [32]byte
	var owner int64 // the enrolling user (ownership, for offboarding)
	pending := false
	in.AccessKey = strings.TrimSpace(in.AccessKey)
	switch {
	case in.AccessKey != "":
		keyHashed = keyHash(in.AccessKey)
		// A cheap read first, so callers without a valid key cannot make the
		// server hash passwords.
		k, err := s.store.Read().AccessKeyByHash(ctx, net.ID, keyHashed)
		if err != nil {
			return nil, nil, keyRefused(err)
		}
		if !k.Usable(s.now()) {
			return nil, nil, keyUnusable(&k.AccessKey, s.now())
		}
		pending = net.RequireApproval
	case p != nil:
		if isNode(p) {
			return nil, nil, errNotOwnNode
		}
		if err := allowGroup(p, actNodesWrite, net.GroupID); err != nil {
			return nil, nil, err
		}
		owner = p.UserID
	case net.AllowManualSignUp:
		pending = true
	default:
		return nil, nil, errKeyRequired
	}

	now := s.stamp()
	n := &Node{
		NetworkID: net.ID, GroupID: net.GroupID, Network: net.NetID, Pending: pending,
		ListenPort: net.DefaultListenPort, PersistentKeepalive: net.DefaultKeepalive, Interface: net.DefaultInterface,
		KeyUpdateAt: now, CreatedAt: now, ModifiedAt: now, Revision: 1, OwnerID: owner,
	}
	want4, want6, err := fillJoin(n, in)
	if err != nil {
		return nil, nil, err
	}
	st.mu.RLock()
	_, taken := st.byMAC[n.MAC]
	st.mu.RUnlock()
	if taken {
		return nil, nil, conflictField("macaddress", "a node with macaddress "+n.MAC+" already exists in network "+netid)
	}
	var sec NodeSecrets
	if in.Password != "" {
		if sec.PasswordHash, err = s.pw.hash(ctx, in.Password); err != nil {
			return nil, nil, err
		}
	}

	var keyName string
	for attempt := 1; ; attempt++ {
		st.mu.Lock()
		a4, a6, err := st.reserve(want4, want6, ownerReserved)
		st.mu.Unlock()
		if err != nil {
			return nil, nil, err
		}
		n.Address, n.Address6 = a4, a6
		err = s.store.InTx(ctx, func(tx Tx) error {
			if in.AccessKey != "" {
				k, err := tx.ConsumeAccessKey(ctx, net.ID, keyHashed, now)
				if err != nil {
					return s.explainKey(ctx, tx, net.ID, keyHashed, err)
				}
				keyName, n.OwnerID = k.Name, k.OwnerID
			}
			if err := tx.CreateNode(ctx, n, sec); err != nil {
				return err
			}
			if err := tx.TouchNetworkNodes(ctx, net.ID, now); err != nil {
				return err
			}
			return audit.Record(ctx, tx, src, n.GroupID, "node.create", nodeTarget(n), map[string]any{
				"network": netid, "macaddress": n.MAC, "name": n.Name, "address": addrString(n.Address),
				"address6": addrString(n.Address6), "pending": n.Pending, "accesskey": keyName, "owner_id": n.OwnerID,
			})
		})
		if err == nil {
			break
		}
		st.mu.Lock()
		st.unreserve(a4, a6, ownerReserved)
		field := conflictOn(err)
		retry := attempt < joinAttempts &&
			(field == "address" && !want4.IsValid() || field == "address6" && !want6.IsValid())
		if retry { // another replica took it; its event will name the owner
			if field == "address" {
				st.pool4.mark(a4, ownerForeign)
			} else {
				st.pool6.mark(a6, ownerForeign)
			}
		}
		st.mu.Unlock()
		if !retry {
			return nil, nil, nodeConflict(err, n)
		}
	}
	s.applyNode(n)
	s.publish(ctx, TopicNode, "created", n.GroupID, n.ID, n)
	st.mu.RLock()
	defer st.mu.RUnlock()
	if m := st.members[n.ID]; m != nil {
		n = st.nodeView(m)
	}
	return n, st.network(), nil
}

// fillJoin validates in into n and returns the addresses asked for.
func fillJoin(n *Node, in JoinFields) (want4, want6 netip.Addr, err error) {
	if n.MAC, err = NormalizeMAC(in.MAC); err != nil {
		return want4, want6, err
	}
	if n.PublicKey, err = NormalizePublicKey(in.PublicKey); err != nil {
		return want4, want6, err
	}
	n.Name = strings.TrimSpace(in.Name)
	if n.Name == "" {
		n.Name = "node-" + randomString(5, alphanumeric[:36])
	}
	if err = ValidateName(n.Name); err != nil {
		return want4, want6, err
	}
	if n.Endpoint, err = normalizeIP("endpoint", in.Endpoint); err != nil {
		return want4, want6, err
	}
	if n.LocalAddress, err = normalizeIP("localaddress", in.LocalAddress); err != nil {
		return want4, want6, err
	}
	if in.ListenPort != 0 {
		if err = validatePort("listenport", in.ListenPort); err != nil {
			return want4, want6, err
		}
		n.ListenPort = in.ListenPort
	}
	if in.PersistentKeepalive != nil {
		if err = validateKeepalive("persistentkeepalive", *in.PersistentKeepalive); err != nil {
			return want4, want6, err
		}
		n.PersistentKeepalive = *in.PersistentKeepalive
	}
	if i := strings.TrimSpace(in.Interface); i != "" {
		if err = validateInterface("interface", i); err != nil {
			return want4, want6, err
		}
		n.Interface = i
	}
	if err = validateOS(in.OS); err != nil {
		return want4, want6, err
	}
	n.OS = in.OS
	if in.Password != "" {
		if err = validatePassword(in.Password); err != nil {
			return want4, want6, err
		}
	}
	if want4, err = parseAddr("address", in.Address, true); err != nil {
		return want4, want6, err
	}
	want6, err = parseAddr("address6", in.Address6, false)
	return want4, want6, err
}

func validatePassword(pw string) error {
	if len(pw) < identity.MinPasswordLen || len(pw) > identity.MaxPasswordLen {
		return invalidField("password", "password must be 8 to 256 characters")
	}
	return nil
}

// parseAddr parses an optional address of one family.
func parseAddr(field, s string, v4 bool) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Is4() != v4 || a.Zone() != "" {
		fam := "IPv6"
		if v4 {
			fam = "IPv4"
		}
		return netip.Addr{}, invalidField(field, field+" must be an "+fam+" address")
	}
	return a, nil
}

// keyRefused maps a failed key lookup to the caller's error.
func keyRefused(err error) error {
	if fault.Is(err, fault.NotFound) {
		return fault.New(fault.Unauthorized, "invalid access key")
	}
	return err
}

func keyUnusable(k *AccessKey, now time.Time) error {
	if k.Uses <= 0 {
		return fault.New(fault.Unauthorized, "access key "+k.Name+" has no uses left")
	}
	if k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) {
		return fault.New(fault.Unauthorized, "access key "+k.Name+" has expired")
	}
	return fault.New(fault.Unauthorized, "invalid access key")
}

// explainKey turns a failed ConsumeAccessKey into the reason.
func (s *Service) explainKey(ctx context.Context, tx Tx, networkID int64, hash [32]byte, err error) error {
	if !fault.Is(err, fault.NotFound) {
		return err
	}
	k, lerr := tx.AccessKeyByHash(ctx, networkID, hash)
	if lerr != nil {
		return keyRefused(lerr)
	}
	return keyUnusable(&k.AccessKey, s.now())
}

// conflictOn names the field of a conflict error, if it is one.
func conflictOn(err error) string {
	fe := fault.As(err)
	if fe == nil || fe.Code != fault.Conflict {
		return ""
	}
	f, _ := fe.Details["field"].(string)
	return f
}

// nodeConflict words a conflict on creating or changing n.
func nodeConflict(err error, n *Node) error {
	switch conflictOn(err) {
	case "macaddress":
		return conflictField("macaddress", "a node with macaddress "+n.MAC+" already exists in network "+n.Network)
	case "publickey":
		return conflictField("publickey", "another node of network "+n.Network+" has this publickey")
	case "address":
		return conflictField("address", "address "+addrString(n.Address)+" is already in use")
	case "address6":
		return conflictField("address6", "address6 "+addrString(n.Address6)+" is already in use")
	}
	return err
}

// applyNode brings this replica's state up to n.
func (s *Service) applyNode(n *Node) {
	st := s.stateByID(n.NetworkID)
	if st == nil {
		return
	}
	start := time.Now()
	st.mu.Lock()
	applied := st.putNode(n)
	st.mu.Unlock()
	if applied {
		s.applied.observe(time.Since(start))
	}
	st.log.signal() // after the lock: waking costs O(waiting streams)
}

// nodeView returns node id of st as callers see it, or nil.
func (s *Service) nodeView(st *netState, id int64) *Node {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if m := st.members[id]; m != nil {
		return st.nodeView(m)
	}
	return nil
}

// lookup finds netid's node mac for p performing a. A node credential is
// checked against its own identity before anything is looked up.
func (s *Service) lookup(p *authz.Principal, a authz.Action, netid, mac string) (*netState, *member, error) {
	if p == nil {
		return nil, nil, fault.New(fault.Unauthorized, "authentication required")
	}
	if !isNode(p) {
		if err := authz.Allow(p, a, authz.Any); err != nil {
			return nil, nil, err
		}
	}
	mac, err := NormalizeMAC(mac)
	if err != nil {
		return nil, nil, err
	}
	st := s.state(netid)
	if st == nil {
		if isNode(p) {
			return nil, nil, errNotOwnNode
		}
		return nil, nil, errNetworkNotFound
	}
	st.mu.RLock()
	m := st.byMAC[mac]
	st.mu.RUnlock()
	if isNode(p) {
		if m == nil || p.Subject != nodeSubject(st.netid, m.node.ID) {
			return nil, nil, errNotOwnNode
		}
		return st, m, nil
	}
	if err := allowGroup(p, a, st.gid); err != nil {
		return nil, nil, err
	}
	if m == nil {
		return nil, nil, errNodeNotFound(mac)
	}
	return st, m, nil
}

// GetNode returns one node. A node credential may read only itself.
// Errors: not_found, forbidden, invalid (MAC).
func (s *Service) GetNode(ctx context.Context, p *authz.Principal, netid, mac string) (*Node, *Network, error) {
	st, m, err := s.lookup(p, actNodesRead, netid, mac)
	if err != nil {
		return nil, nil, err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.nodeView(m), st.network(), nil
}

// ListNodes returns the nodes p may see, of one network (netid) or of all,
// by network then ID. Errors: unauthorized, forbidden, not_found (netid).
func (s *Service) ListNodes(ctx context.Context, p *authz.Principal, netid string) ([]*Node, map[int64]*Network, error) {
	if err := authz.Allow(p, actNodesRead, authz.Any); err != nil {
		return nil, nil, err
	}
	var states []*netState
	if netid != "" {
		st := s.state(netid)
		if st == nil {
			return nil, nil, errNetworkNotFound
		}
		if err := allowGroup(p, actNodesRead, st.gid); err != nil {
			return nil, nil, err
		}
		states = []*netState{st}
	} else {
		scope := p.GroupScope()
		for _, st := range s.states() {
			if scope == 0 || st.gid == scope {
				states = append(states, st)
			}
		}
		slices.SortFunc(states, func(a, b *netState) int { return strings.Compare(a.netid, b.netid) })
	}
	var out []*Node
	nets := make(map[int64]*Network, len(states))
	for _, st := range states {
		st.mu.RLock()
		nets[st.id] = st.network()
		start := len(out)
		for _, m := range st.members {
			out = append(out, st.nodeView(m))
		}
		st.mu.RUnlock()
		part := out[start:]
		slices.SortFunc(part, func(a, b *Node) int { return cmp.Compare(a.ID, b.ID) })
	}
	return out, nets, nil
}

// UpdateNode changes a node. A node credential may change only its own
// node and not its addresses. A new public key counts as a key update.
// Errors: as GetNode, plus invalid, conflict.
func (s *Service) UpdateNode(ctx context.Context, p *authz.Principal, src audit.Source, netid, mac string, patch NodePatch) (*Node, error) {
	st, m, err := s.lookup(p, actNodesWrite, netid, mac)
	if err != nil {
		return nil, err
	}
	id := m.node.ID
	want4, err := parseOptAddr("address", patch.Address, true)
	if err != nil {
		return nil, err
	}
	want6, err := parseOptAddr("address6", patch.Address6, false)
	if err != nil {
		return nil, err
	}
	var pwHash string
	if patch.Password != nil && *patch.Password != "" {
		if err := validatePassword(*patch.Password); err != nil {
			return nil, err
		}
		if pwHash, err = s.pw.hash(ctx, *patch.Password); err != nil {
			return nil, err
		}
	}

	// Reserve a new address before the transaction, as Join does.
	st.mu.Lock()
	cur := m.node
	if want4 == cur.Address {
		want4 = netip.Addr{}
	}
	if want6 == cur.Address6 {
		want6 = netip.Addr{}
	}
	if (want4.IsValid() || want6.IsValid()) && isNode(p) {
		st.mu.Unlock()
		return nil, fault.New(fault.Forbidden, "only an administrator may change a node's addresses")
	}
	var r4, r6 netip.Addr
	if want4.IsValid() {
		if !st.pool4.contains(want4) {
			st.mu.Unlock()
			return nil, invalidField("address", "address must be a host address of "+st.net.AddressRange.String())
		}
		if !st.pool4.claim(want4, id) {
			st.mu.Unlock()
			return nil, conflictField("address", "address "+want4.String()+" is already in use")
		}
		r4 = want4
	}
	if want6.IsValid() {
		if st.pool6 == nil || !st.pool6.contains(want6) || !st.pool6.claim(want6, id) {
			st.pool4.release(r4, id)
			st.mu.Unlock()
			return nil, conflictField("address6", "address6 "+want6.String()+" is outside addressrange6 or in use")
		}
		r6 = want6
	}
	st.mu.Unlock()

	var n *Node
	noop := false
	err = s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.NodeForUpdate(ctx, st.id, m.node.MAC)
		if err != nil {
			return notFoundAs(err, errNodeNotFound(m.node.MAC))
		}
		next := *cur
		changed, err := applyPatch(&next, patch, r4, r6, s.stamp())
		if err != nil {
			return err
		}
		if len(changed) == 0 && pwHash == "" { // Netmaker clients send the whole node back
			noop = true
			return nil
		}
		if pwHash != "" {
			if err := tx.SetNodePassword(ctx, cur.ID, pwHash); err != nil {
				return err
			}
			changed = append(changed, "password")
		}
		if err := tx.UpdateNode(ctx, &next); err != nil {
			return err
		}
		if err := tx.TouchNetworkNodes(ctx, st.id, next.ModifiedAt); err != nil {
			return err
		}
		n = &next
		return audit.Record(ctx, tx, src, n.GroupID, "node.update", nodeTarget(n), map[string]any{"fields": changed})
	})
	if err != nil {
		st.mu.Lock()
		st.pool4.release(r4, id)
		st.pool6.release(r6, id)
		st.mu.Unlock()
		if n == nil {
			n = m.node
		}
		return nil, nodeConflict(err, n)
	}
	if !noop {
		s.applyNode(n)
		s.publish(ctx, TopicNode, "updated", n.GroupID, n.ID, n)
	}
	if v := s.nodeView(st, id); v != nil {
		return v, nil
	}
	return nil, errNodeNotFound(m.node.MAC)
}

func parseOptAddr(field string, s *string, v4 bool) (netip.Addr, error) {
	if s == nil {
		return netip.Addr{}, nil
	}
	return parseAddr(field, *s, v4)
}

// applyPatch applies p to n and returns the names of the fields it changed.
// r4 and r6 are new addresses already reserved (invalid: unchanged).
func applyPatch(n *Node, p NodePatch, r4, r6 netip.Addr, now time.Time) ([]string, error) {
	var changed []string
	setStr := func(name string, dst *string, v *string, norm func(string) (string, error)) error {
		if v == nil {
			return nil
		}
		val, err := norm(*v)
		if err != nil {
			return err
		}
		if val != *dst {
			*dst = val
			changed = append(changed, name)
		}
		return nil
	}
	trim := func(s string) (string, error) { return strings.TrimSpace(s), nil }
	name := func(s string) (string, error) {
		s = strings.TrimSpace(s)
		if s == "" {
			return n.Name, nil
		}
		return s, ValidateName(s)
	}
	iface := func(s string) (string, error) {
		s = strings.TrimSpace(s)
		if s == "" {
			return n.Interface, nil
		}
		if err := validateInterface("interface", s); err != nil {
			return "", err
		}
		return s, nil
	}
	pub := func(s string) (string, error) {
		if strings.TrimSpace(s) == "" {
			return n.PublicKey, nil
		}
		return NormalizePublicKey(s)
	}
	errs := []error{
		setStr("name", &n.Name, p.Name, name),
		setStr("publickey", &n.PublicKey, p.PublicKey, pub),
		setStr("endpoint", &n.Endpoint, p.Endpoint, func(s string) (string, error) { return normalizeIP("endpoint", s) }),
		setStr("localaddress", &n.LocalAddress, p.LocalAddress, func(s string) (string, error) { return normalizeIP("localaddress", s) }),
		setStr("interface", &n.Interface, p.Interface, iface),
		setStr("os", &n.OS, p.OS, trim),
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := validateOS(n.OS); err != nil {
		return nil, err
	}
	if p.ListenPort != nil && *p.ListenPort != 0 && *p.ListenPort != n.ListenPort {
		if err := validatePort("listenport", *p.ListenPort); err != nil {
			return nil, err
		}
		n.ListenPort = *p.ListenPort
		changed = append(changed, "listenport")
	}
	if p.PersistentKeepalive != nil && *p.PersistentKeepalive != n.PersistentKeepalive {
		if err := validateKeepalive("persistentkeepalive", *p.PersistentKeepalive); err != nil {
			return nil, err
		}
		n.PersistentKeepalive = *p.PersistentKeepalive
		changed = append(changed, "persistentkeepalive")
	}
	if r4.IsValid() {
		n.Address = r4
		changed = append(changed, "address")
	}
	if r6.IsValid() {
		n.Address6 = r6
		changed = append(changed, "address6")
	}
	if slices.Contains(changed, "publickey") {
		n.KeyUpdateAt = now
	}
	n.ModifiedAt = now
	return changed, nil
}

// DeleteNode deletes a node; a node credential may delete only itself (an
// agent leaving). Every peer's stream gets the removal. Errors: as GetNode.
func (s *Service) DeleteNode(ctx context.Context, p *authz.Principal, src audit.Source, netid, mac string) error {
	st, m, err := s.lookup(p, actNodesWrite, netid, mac)
	if err != nil {
		return err
	}
	var n *Node
	at := s.stamp()
	err = s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if n, err = tx.NodeForUpdate(ctx, st.id, m.node.MAC); err != nil {
			return notFoundAs(err, errNodeNotFound(m.node.MAC))
		}
		if err := tx.DeleteNode(ctx, n.ID); err != nil {
			return notFoundAs(err, errNodeNotFound(m.node.MAC))
		}
		if err := tx.TouchNetworkNodes(ctx, st.id, at); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, n.GroupID, "node.delete", nodeTarget(n), map[string]any{
			"network": netid, "macaddress": n.MAC, "name": n.Name,
		})
	})
	if err != nil {
		return err
	}
	s.applyDelete(n.NetworkID, n.ID, at)
	s.publish(ctx, TopicNode, "deleted", n.GroupID, n.ID, deletion{NetworkID: n.NetworkID, At: at})
	return nil
}

// deletion is the data of a "node deleted" event.
type deletion struct {
	NetworkID int64
	At        time.Time
}

func (s *Service) applyDelete(networkID, id int64, at time.Time) {
	st := s.stateByID(networkID)
	if st == nil {
		return
	}
	start := time.Now()
	st.mu.Lock()
	applied := st.dropNode(id, at)
	st.mu.Unlock()
	if applied {
		s.applied.observe(time.Since(start))
	}
	st.log.signal() // after the lock: waking costs O(waiting streams)
}

// LastModified is when any node of the network last changed (Unix seconds).
// A node credential may ask about its own network. Errors: as ListNodes.
func (s *Service) LastModified(ctx context.Context, p *authz.Principal, netid string) (int64, error) {
	if isNode(p) {
		if own, _, ok := parseNodeSubject(p.Subject); !ok || own != netid {
			return 0, errNotOwnNode
		}
	} else if err := authz.Allow(p, actNodesRead, authz.Any); err != nil {
		return 0, err
	}
	st := s.state(netid)
	if st == nil {
		return 0, errNetworkNotFound
	}
	if !isNode(p) {
		if err := allowGroup(p, actNodesRead, st.gid); err != nil {
			return 0, err
		}
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	return unix(st.network().NodesModifiedAt), nil
}
