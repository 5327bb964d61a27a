package agent

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"netkeep/internal/meshwire"
	"netkeep/internal/wg"
)

// Config is how an agent runs.
type Config struct {
	// Dir is the state directory (see State).
	Dir string
	Log *slog.Logger
	// HTTP is the client for API calls and the stream; nil means the
	// default client. Plain calls are bounded by Client's callTimeout.
	HTTP *http.Client
	// OpenLink makes the interface; nil means the real one (wg.OpenLink).
	// Tests put a recording fake here.
	OpenLink func(name string, mode wg.Mode, log *slog.Logger) (wg.Link, error)
	// MinBackoff and MaxBackoff bound the wait between reconnections
	// (defaults 1 s and 30 s); each wait is jittered by ±20%.
	MinBackoff, MaxBackoff time.Duration
}

// ErrNodeGone means the server no longer has this node: it was deleted
// (stream close code 4001), or its credentials are refused. The agent
// removes its interface and its state; joining again starts over.
var ErrNodeGone = errors.New("the server no longer has this node")

// errResync is the server's request (close code 4000) to reconnect at once.
var errResync = errors.New("the server asked for a resync")

// Agent keeps one host's WireGuard interface in line with its node's view.
type Agent struct {
	cfg       Config
	log       *slog.Logger
	st        *State
	api       *Client
	view      *meshwire.View
	link      wg.Link
	rotateDue bool // a key rotation is owed (requested, missed or unpublished)
	applyDue  bool // the last Apply failed: retry at the next check-in
	viewDirty bool // the view changed since it was saved
}

// New returns an agent over a loaded (or just joined) state.
func New(cfg Config, st *State) *Agent {
	cfg = cfg.withDefaults()
	return &Agent{cfg: cfg, log: cfg.Log.With("network", st.Network, "interface", st.Interface), st: st,
		api: &Client{Server: st.Server, HTTP: cfg.HTTP}, view: meshwire.NewView()}
}

func (cfg Config) withDefaults() Config {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{}
	}
	if cfg.OpenLink == nil {
		cfg.OpenLink = wg.OpenLink
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	return cfg
}

// Run brings the interface up (from the saved view first, so the mesh
// works while the server is unreachable), then follows the push stream,
// reconnecting with backoff and resynchronising on every connection, until
// ctx ends or the node is gone. On return the interface is removed: a
// stopped agent leaves no half-maintained tunnel behind, and the state
// directory holds everything to bring it back (`netkeep agent up`). It
// returns nil when ctx ended and ErrNodeGone when the node was deleted.
func (a *Agent) Run(ctx context.Context) error {
	link, err := a.cfg.OpenLink(a.st.Interface, a.st.WireGuard, a.log)
	if err != nil {
		return err
	}
	a.link = link
	defer func() {
		if err := link.Close(); err != nil {
			a.log.Warn("removing the interface", "err", err)
		}
	}()
	if a.st.View != nil {
		a.view.Restore(a.st.View)
		a.apply(ctx)
	}
	backoff := a.cfg.MinBackoff
	for {
		synced, err := a.session(ctx)
		if ctx.Err() != nil {
			a.saveView()
			return nil
		}
		if errors.Is(err, ErrNodeGone) {
			a.log.Error("the node is gone from the network: removing the interface and the state", "err", err)
			if rerr := RemoveState(a.cfg.Dir); rerr != nil {
				a.log.Warn("removing the state", "err", rerr)
			}
			return err
		}
		if synced {
			backoff = a.cfg.MinBackoff
		}
		if errors.Is(err, errResync) {
			a.log.Info("resynchronising")
			continue
		}
		wait := jitter(backoff)
		a.log.Warn("push stream ended; reconnecting", "err", err, "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			a.saveView()
			return nil
		case <-time.After(wait):
		}
		backoff = min(2*backoff, a.cfg.MaxBackoff)
	}
}

func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// apply configures the interface from the view; a failure is logged and
// retried at the next check-in.
func (a *Agent) apply(ctx context.Context) {
	spec, skipped := wg.BuildSpec(wgtypes.Key(a.st.PrivateKey), a.view)
	for _, err := range skipped {
		a.log.Warn("leaving out a peer", "err", err)
	}
	if err := a.link.Apply(ctx, spec); err != nil {
		a.applyDue = true
		a.log.Error("configuring the interface", "err", err)
		return
	}
	a.applyDue = false
}

// save writes the state; the agent goes on with its in-memory copy when the
// disk refuses (and says so).
func (a *Agent) save() {
	if err := a.st.Save(a.cfg.Dir); err != nil {
		a.log.Error("saving the state", "err", err)
	}
}

func (a *Agent) saveView() {
	if !a.view.HasSelf() {
		return
	}
	a.st.View = a.view.Snapshot()
	a.viewDirty = false
	a.save()
}
