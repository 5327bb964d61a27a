package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/meshwire"
)

// defaultCheckIn is the check-in interval until the server says otherwise.
const defaultCheckIn = meshwire.DefaultCheckInInterval * time.Second

// session runs one stream connection until it ends. synced reports whether
// the connection delivered its full view (so the backoff resets).
func (a *Agent) session(ctx context.Context) (synced bool, err error) {
	tok, err := a.token(ctx)
	if err != nil {
		return false, err
	}
	held, _ := a.view.Digest() // nil: no view yet, the server sends it whole
	conn, err := a.api.DialStream(ctx, a.st.Network, a.st.MACAddress, tok, held)
	switch statusOf(err) {
	case 0:
	case http.StatusUnauthorized:
		a.st.Token = "" // expired or revoked: authenticate with the password next time
		return false, fmt.Errorf("opening the push stream: %w", err)
	case http.StatusNotFound:
		return false, fmt.Errorf("%w: %v", ErrNodeGone, err)
	}
	if err != nil {
		return false, fmt.Errorf("opening the push stream: %w", err)
	}
	defer conn.CloseNow()
	a.view.Reset()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs, readErr := make(chan *meshwire.Message, 256), make(chan error, 1)
	go readStream(rctx, conn, msgs, readErr)

	every := defaultCheckIn
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = conn.Close(websocket.StatusNormalClosure, "agent stopping")
			return synced, ctx.Err()
		case err := <-readErr:
			return synced, streamEnd(err)
		case m := <-msgs:
			full, err := a.applyBatch(ctx, m, msgs)
			if err != nil {
				return synced, err // a confused stream: reconnect for a full view
			}
			if full && !synced {
				synced = true
				a.log.Info("push stream connected", "peers", a.view.Len(), "pending", a.view.Self().IsPending)
				a.announce(ctx)
			}
			if d := checkInEvery(a.view.Self()); d != every {
				every = d
				tick.Reset(every)
			}
		case <-tick.C:
			a.checkIn(ctx)
		}
	}
}

// applyBatch applies m and whatever else is already queued, then configures
// the interface once for all of them. full reports a full view among them.
func (a *Agent) applyBatch(ctx context.Context, m *meshwire.Message, queued <-chan *meshwire.Message) (full bool, err error) {
	changed := false
	for {
		eff, err := a.view.Apply(m)
		if err != nil {
			return full, err
		}
		if eff.Ignored != nil {
			a.log.Debug("ignored a stream message", "type", m.Type, "why", eff.Ignored)
		}
		full = full || m.Type == meshwire.MsgFull || m.Type == meshwire.MsgSync
		changed = changed || eff.Changed
		a.rotateDue = a.rotateDue || eff.RotateKey
		select {
		case m = <-queued:
			continue
		default:
		}
		break
	}
	a.reconcileKey()
	if a.rotateDue {
		a.rotate(ctx)
	}
	if changed {
		a.viewDirty = true
	}
	if changed || a.applyDue {
		a.apply(ctx)
	}
	if full {
		a.saveView()
	}
	return full, nil
}

func readStream(ctx context.Context, conn *websocket.Conn, out chan<- *meshwire.Message, errc chan<- error) {
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			errc <- err
			return
		}
		m := new(meshwire.Message)
		if err := json.Unmarshal(b, m); err != nil {
			errc <- fmt.Errorf("decoding a stream message: %w", err)
			return
		}
		select {
		case out <- m:
		case <-ctx.Done():
			return
		}
	}
}

// streamEnd classifies how the server ended the stream.
func streamEnd(err error) error {
	switch websocket.CloseStatus(err) {
	case meshwire.CloseResync:
		return errResync
	case meshwire.CloseNodeDeleted:
		return fmt.Errorf("%w: deleted", ErrNodeGone)
	}
	return err
}

func checkInEvery(self meshwire.Node) time.Duration {
	if self.CheckInInterval > 0 {
		return time.Duration(self.CheckInInterval) * time.Second
	}
	return defaultCheckIn
}

// token returns a usable node JWT, getting a new one with the node's
// password when the saved one is missing or about to expire.
func (a *Agent) token(ctx context.Context) (string, error) {
	if a.st.Token != "" && (a.st.TokenExpires.IsZero() || time.Until(a.st.TokenExpires) > time.Minute) {
		return a.st.Token, nil
	}
	if a.st.Password == "" {
		return "", fmt.Errorf("%w: its token expired and the state has no password", ErrNodeGone)
	}
	t, err := a.api.Authenticate(ctx, a.st.Network, a.st.MACAddress, a.st.Password)
	switch s := statusOf(err); {
	case s == http.StatusUnauthorized || s == http.StatusNotFound || s == http.StatusForbidden:
		return "", fmt.Errorf("%w: authentication refused: %v", ErrNodeGone, err)
	case err != nil:
		return "", fmt.Errorf("authenticating the node: %w", err)
	}
	a.st.Token, a.st.TokenExpires = t.Value, t.Expires
	a.save()
	return t.Value, nil
}

// checkIn records liveness and renews the token; it is also when failed
// work (an unpublished key, an interface error) is retried and the view
// saved.
func (a *Agent) checkIn(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	n, tok, err := a.api.CheckIn(cctx, a.st.Network, a.st.MACAddress, a.st.Token)
	switch {
	case statusOf(err) == http.StatusUnauthorized:
		a.st.Token = ""
		if _, err := a.token(cctx); err != nil {
			a.log.Warn("renewing the node token", "err", err)
		}
	case err != nil:
		a.log.Warn("checking in", "err", err)
	default:
		if tok.Value != "" && tok.Value != a.st.Token {
			a.st.Token, a.st.TokenExpires = tok.Value, tok.Expires
			a.save()
		}
		a.rotateDue = a.rotateDue || n.NeedKeyUpdate
	}
	if a.rotateDue {
		a.rotate(cctx)
	}
	if a.applyDue {
		a.apply(cctx)
	}
	if a.viewDirty {
		a.saveView()
	}
}
