package agent

import (
	"context"
)

// reconcileKey compares the public key the server has for this node with
// the agent's keys: the pending key's means its publication went through
// (promote it), any other but the current key's means a rotation is owed.
func (a *Agent) reconcileKey() {
	pub := a.view.Self().PublicKey
	if pub == "" {
		return
	}
	if p := a.st.PendingKey; p != nil && pub == p.Public() {
		a.st.PrivateKey, a.st.PendingKey = *p, nil
		a.save()
		a.applyDue = true
		return
	}
	if pub != a.st.PrivateKey.Public() {
		a.rotateDue = true
	}
}

// rotate moves to a new key pair: the new private key is saved (as pending)
// before its public half is published with PUT on the node, then becomes
// the key, and the interface is owed a reconfiguration (applyDue), which
// the caller makes once for the rotation and any view change. Peers get the new key as an
// upsert from the server. A failure leaves the rotation owed; it is retried
// at the next check-in, with the same pending key.
func (a *Agent) rotate(ctx context.Context) {
	if a.st.PendingKey == nil {
		k, err := NewKey()
		if err != nil {
			a.log.Error("generating a key", "err", err)
			return
		}
		a.st.PendingKey = &k
		if err := a.st.Save(a.cfg.Dir); err != nil {
			a.log.Error("saving the new key; not publishing it", "err", err)
			a.st.PendingKey = nil
			return
		}
	}
	pub := a.st.PendingKey.Public()
	if _, err := a.api.UpdateNode(ctx, a.st.Network, a.st.MACAddress, a.st.Token, map[string]any{"publickey": pub}); err != nil {
		a.log.Warn("publishing the new public key", "err", err)
		return
	}
	a.st.PrivateKey, a.st.PendingKey = *a.st.PendingKey, nil
	a.rotateDue = false
	a.save()
	a.applyDue = true
	a.log.Info("rotated the WireGuard key", "publickey", pub)
}

// announce tells the server this host's endpoint and listen port when they
// differ from what it has (the host moved, or the flags changed).
func (a *Agent) announce(ctx context.Context) {
	self := a.view.Self()
	patch := map[string]any{}
	endpoint := a.st.Endpoint
	if endpoint == "" {
		endpoint = detectEndpoint(a.st.Server)
	}
	if endpoint != "" && endpoint != self.Endpoint {
		patch["endpoint"] = endpoint
	}
	if a.st.ListenPort != 0 && a.st.ListenPort != self.ListenPort {
		patch["listenport"] = a.st.ListenPort
	}
	if len(patch) == 0 {
		return
	}
	if _, err := a.api.UpdateNode(ctx, a.st.Network, a.st.MACAddress, a.st.Token, patch); err != nil {
		a.log.Warn("announcing the endpoint", "err", err)
	}
}
