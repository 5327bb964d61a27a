package wg

import (
	"context"
	"log/slog"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/meshwire"
)

// Tunnel is a Link configured from a view: what the server's own mesh nodes
// drive (internal/mesh's ServerTunnel).
type Tunnel struct {
	link Link
	log  *slog.Logger
}

// NewTunnel wraps a Link.
func NewTunnel(l Link, log *slog.Logger) *Tunnel { return &Tunnel{link: l, log: log} }

// OpenTunnel creates the interface name (kernel WireGuard when available,
// userspace otherwise).
func OpenTunnel(name string, log *slog.Logger) (*Tunnel, error) {
	l, err := OpenLink(name, ModeAuto, log)
	if err != nil {
		return nil, err
	}
	return NewTunnel(l, log), nil
}

// Configure makes the interface match v with key; peers whose own
// keepalive is zero get keepalive. Peer entries it cannot use are left out
// and logged.
func (t *Tunnel) Configure(ctx context.Context, key wgtypes.Key, v *meshwire.View, keepalive time.Duration) error {
	spec, skipped := BuildSpec(key, v)
	for _, err := range skipped {
		t.log.Warn("leaving out a peer", "err", err)
	}
	for i := range spec.Peers {
		if spec.Peers[i].Keepalive == 0 {
			spec.Peers[i].Keepalive = keepalive
		}
	}
	return t.link.Apply(ctx, spec)
}

// Close removes the interface.
func (t *Tunnel) Close() error { return t.link.Close() }
