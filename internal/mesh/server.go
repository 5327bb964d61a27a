package mesh

import (
	"context"
	"strconv"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// ServerMAC is the macaddress of the server's own node in every network it
// joins: a locally administered address ("nk" in its second and third bytes)
// that no network card carries.
const ServerMAC = "02:6e:6b:00:00:01"

// serverKeyContext binds the sealed private key to its node.
func serverKeyContext(networkID int64) string {
	return "mesh-server-key:" + strconv.FormatInt(networkID, 10)
}

// AddServer makes the server itself a node of the network (Netmaker's
// addnetwork). This is the one WireGuard private key netkeep holds: the
// server's own, generated here and stored sealed with the server secret,
// for the in-process device to use (ServerKey). The node is approved at
// once. Errors: as CreateNetwork's; conflict when the server is already in.
func (s *Service) AddServer(ctx context.Context, p *authz.Principal, src audit.Source, netid string) (*Node, error) {
	st, err := s.writableNetwork(p, netid)
	if err != nil {
		return nil, err
	}
	priv, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		return nil, err
	}
	sealed, err := s.sealer.Seal(priv[:], serverKeyContext(st.id))
	if err != nil {
		return nil, err
	}
	st.mu.RLock()
	net := st.network()
	st.mu.RUnlock()
	now := s.stamp()
	n := &Node{
		NetworkID: net.ID, GroupID: net.GroupID, Network: net.NetID, MAC: ServerMAC, Name: "netkeep-server",
		PublicKey: priv.PublicKey().String(), ListenPort: net.DefaultListenPort, PersistentKeepalive: net.DefaultKeepalive,
		Interface: net.DefaultInterface, IsServer: true, KeyUpdateAt: now, CreatedAt: now, ModifiedAt: now, Revision: 1,
	}
	st.mu.Lock()
	a4, a6, err := st.reserve(netipZero, netipZero, ownerReserved)
	st.mu.Unlock()
	if err != nil {
		return nil, err
	}
	n.Address, n.Address6 = a4, a6
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateNode(ctx, n, NodeSecrets{ServerKey: sealed}); err != nil {
			if conflictOn(err) == "macaddress" {
				return conflictField("macaddress", "the server is already a node of network "+netid)
			}
			return err
		}
		if err := tx.TouchNetworkNodes(ctx, net.ID, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, n.GroupID, "network.server.add", nodeTarget(n), map[string]any{
			"network": netid, "address": addrString(n.Address),
		})
	})
	if err != nil {
		st.mu.Lock()
		st.unreserve(a4, a6, ownerReserved)
		st.mu.Unlock()
		return nil, nodeConflict(err, n)
	}
	s.applyNode(n)
	s.publish(ctx, TopicNode, "created", n.GroupID, n.ID, n)
	return s.nodeView(st, n.ID), nil
}

// RemoveServer removes the server's own node from the network. Errors: as
// AddServer; not_found when the server is not a node of it.
func (s *Service) RemoveServer(ctx context.Context, p *authz.Principal, src audit.Source, netid string) error {
	if _, err := s.writableNetwork(p, netid); err != nil {
		return err
	}
	err := s.DeleteNode(ctx, p, src, netid, ServerMAC)
	if fault.Is(err, fault.NotFound) {
		return fault.Errorf(fault.NotFound, "the server is not a node of network %s", netid)
	}
	return err
}

// ServerKey returns the server's own private key in a network, for the
// in-process WireGuard device. It is never exposed through any API.
func (s *Service) ServerKey(ctx context.Context, netid string) (wgtypes.Key, error) {
	st := s.state(netid)
	if st == nil {
		return wgtypes.Key{}, errNetworkNotFound
	}
	st.mu.RLock()
	m := st.byMAC[ServerMAC]
	st.mu.RUnlock()
	if m == nil || !m.node.IsServer {
		return wgtypes.Key{}, fault.Errorf(fault.NotFound, "the server is not a node of network %s", netid)
	}
	sec, err := s.store.Read().NodeSecrets(ctx, m.node.ID)
	if err != nil {
		return wgtypes.Key{}, err
	}
	raw, err := s.sealer.Open(sec.ServerKey, serverKeyContext(st.id))
	if err != nil {
		return wgtypes.Key{}, err
	}
	return wgtypes.NewKey(raw)
}

// rotateServerKey gives the server's own node in net, if it has one, a new
// key as part of a keyupdate: agents rotate their keys themselves, and the
// server is the agent of its own node. It returns the updated node (nil
// when the server is not a node of net); the caller applies and publishes
// it after the transaction commits, and the in-process device picks up the
// new key when its node's public key changes.
func (s *Service) rotateServerKey(ctx context.Context, tx Tx, net *Network, now time.Time) (*Node, error) {
	n, err := tx.NodeForUpdate(ctx, net.ID, ServerMAC)
	if fault.Is(err, fault.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !n.IsServer {
		return nil, nil
	}
	priv, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		return nil, err
	}
	sealed, err := s.sealer.Seal(priv[:], serverKeyContext(net.ID))
	if err != nil {
		return nil, err
	}
	if err := tx.SetServerKey(ctx, n.ID, sealed); err != nil {
		return nil, err
	}
	n.PublicKey, n.KeyUpdateAt, n.ModifiedAt = priv.PublicKey().String(), now, now
	if err := tx.UpdateNode(ctx, n); err != nil {
		return nil, err
	}
	return n, nil
}
