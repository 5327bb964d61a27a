package mesh

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/meshwire"
)

// ServerTunnel is the WireGuard interface of the server's own node in one
// network, as ServerNodes drives it. internal/wg implements it (wg.Tunnel);
// mesh declares only what it needs, so the domain carries no netlink or
// WireGuard device code.
type ServerTunnel interface {
	// Configure makes the interface match v with key; peers whose own
	// keepalive is zero get keepalive.
	Configure(ctx context.Context, key wgtypes.Key, v *meshwire.View, keepalive time.Duration) error
	// Close removes the interface.
	Close() error
}

// ServerNodes runs the server's own node in every network it was added to
// (AddServer: POST /api/server/addnetwork/{netid}) as an interface on the
// server's host: the same meshwire.View as an agent, fed by the in-process
// stream instead of a WebSocket, with the key the server holds sealed
// (ServerKey). A keyupdate rotates that key here; the node takes the new one
// when its own public key changes. Removing the server from the network
// (RemoveServer) removes the interface.
type ServerNodes struct {
	Mesh *Service
	Log  *slog.Logger
	// Open creates an interface (required): the caller injects the real
	// one (internal/wg's OpenTunnel), tests a fake.
	Open func(name string, log *slog.Logger) (ServerTunnel, error)
	// Every is how often networks are checked for the server joining them
	// (default 2 s): a cheap in-memory look-up per network.
	Every time.Duration
}

// serverKeepalive is the server node's keepalive towards peers that have
// none: the server's node has no endpoint its peers could know (the server
// cannot tell which of its addresses they reach), so it makes contact
// first, at once and then periodically, and they learn it from there.
const serverKeepalive = 25 * time.Second

var serverPrincipal = &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}

// Run keeps the server's nodes running until ctx ends, then removes their
// interfaces.
func (sn *ServerNodes) Run(ctx context.Context) {
	if sn.Log == nil {
		sn.Log = slog.New(slog.DiscardHandler)
	}
	if sn.Every <= 0 {
		sn.Every = 2 * time.Second
	}
	if sn.Open == nil {
		sn.Log.Error("the server's mesh nodes cannot run: no way to open an interface")
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	var mu sync.Mutex
	running := map[string]bool{}
	tick := time.NewTicker(sn.Every)
	defer tick.Stop()
	for {
		nets, err := sn.Mesh.ListNetworks(ctx, serverPrincipal)
		if err != nil && ctx.Err() == nil {
			sn.Log.Warn("listing mesh networks for the server's nodes", "err", err)
		}
		for _, n := range nets {
			mu.Lock()
			busy := running[n.NetID]
			mu.Unlock()
			if busy {
				continue
			}
			if _, err := sn.Mesh.ServerKey(ctx, n.NetID); err != nil {
				continue // the server is not a node of it
			}
			mu.Lock()
			running[n.NetID] = true
			mu.Unlock()
			wg.Add(1)
			go func(netid string) {
				defer wg.Done()
				sn.runNetwork(ctx, netid)
				mu.Lock()
				delete(running, netid)
				mu.Unlock()
			}(n.NetID)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// serverNode is the server's node in one network.
type serverNode struct {
	sn        *ServerNodes
	log       *slog.Logger
	key       wgtypes.Key
	view      *meshwire.View
	tunnel    ServerTunnel
	triedOpen time.Time // the last failed attempt to create the interface
	failing   bool      // the last configuration failed (logged once, not per change)
}

// reopenEvery spaces attempts to create an interface that could not be
// created (no privileges, say), so a busy network does not retry and log
// it at every change.
const reopenEvery = time.Minute

// runNetwork runs the server's node in one network until it is removed
// from it or ctx ends.
func (sn *ServerNodes) runNetwork(ctx context.Context, netid string) {
	n := &serverNode{sn: sn, log: sn.Log.With("network", netid, "node", "server"), view: meshwire.NewView()}
	defer func() {
		if n.tunnel != nil {
			if err := n.tunnel.Close(); err != nil {
				n.log.Warn("removing the server's interface", "err", err)
			}
		}
	}()
	for ctx.Err() == nil {
		key, err := sn.Mesh.ServerKey(ctx, netid)
		var s *Stream
		if err == nil {
			s, err = sn.Mesh.Subscribe(ctx, serverPrincipal, netid, ServerMAC)
		}
		if fault.Is(err, fault.NotFound) {
			return
		}
		if err != nil {
			n.log.Warn("following the server's node", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(sn.Every):
			}
			continue
		}
		n.key = key
		n.view.Reset()
		end := n.follow(ctx, s)
		s.Close()
		if end == EndDeleted || end == EndShutdown {
			return
		}
	}
}

// follow applies one stream until it ends and says why.
func (n *serverNode) follow(ctx context.Context, s *Stream) EndReason {
	n.apply(ctx, s.Full().AppendTo(nil))
	for {
		raw, err := s.Next(ctx)
		if errors.Is(err, ErrStreamEnded) {
			return s.Reason()
		}
		if err != nil {
			return EndClosed // ctx ended
		}
		n.apply(ctx, raw)
	}
}

func (n *serverNode) apply(ctx context.Context, raw []byte) {
	err := n.configure(ctx, raw)
	switch {
	case err != nil && !n.failing:
		n.log.Error("configuring the server's interface", "err", err)
	case err == nil && n.failing:
		n.log.Info("the server's interface is configured again")
	}
	n.failing = err != nil
}

func (n *serverNode) configure(ctx context.Context, raw []byte) error {
	var m meshwire.Message
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	eff, err := n.view.Apply(&m)
	if err != nil || !eff.Changed && n.tunnel != nil {
		return err
	}
	if self := n.view.Self(); self.PublicKey != "" && self.PublicKey != n.key.PublicKey().String() {
		// A keyupdate rotated the server's key (mesh rotates it with the
		// network's): take the new one before configuring.
		if n.key, err = n.sn.Mesh.ServerKey(ctx, n.view.Network().NetID); err != nil {
			return err
		}
	}
	if n.tunnel == nil {
		if time.Since(n.triedOpen) < reopenEvery {
			return nil // the view is kept current; the next attempt applies it whole
		}
		name := n.view.Self().Interface
		if meshwire.CheckInterfaceName(name) != "" {
			name = meshwire.DefaultInterface(n.view.Network().NetID)
		}
		if n.tunnel, err = n.sn.Open(name, n.log); err != nil {
			n.tunnel, n.triedOpen = nil, time.Now()
			return err
		}
		n.log.Info("the server's mesh interface is up", "interface", name, "address", n.view.Self().Address)
	}
	return n.tunnel.Configure(ctx, n.key, n.view, serverKeepalive)
}
