package radius

import (
	"context"
	"fmt"
	"time"

	"netkeep/internal/mac"
	"netkeep/internal/psk"
)

// PSKService is what the directory needs of the psk domain; *psk.Service
// implements it.
type PSKService interface {
	EachKey(ctx context.Context, fn func(*psk.Key) error) error
	EachBinding(ctx context.Context, fn func(*psk.Binding) error) error
	LoadPSK(ctx context.Context, id int64) (*psk.PSK, error)
	LoadEndpoint(ctx context.Context, id int64) (*psk.Endpoint, error)
	BindEndpoint(ctx context.Context, groupID int64, mac string, pskID int64) (*psk.Endpoint, error)
	TouchEndpoints(ctx context.Context, seen map[int64]time.Time) error
}

// FromPSK adapts the psk domain to Source.
func FromPSK(s PSKService) Source { return pskSource{s} }

type pskSource struct{ s PSKService }

func fromPSK(p *psk.PSK) PSK {
	out := PSK{ID: p.ID, GroupID: p.GroupID, Name: p.PSKID, Passphrase: p.Passphrase, Enabled: p.Enabled}
	if p.VLANID != nil {
		out.VLAN = *p.VLANID
	}
	if p.Expires != nil {
		out.ExpiresAt = *p.Expires
	}
	return out
}

func fromEndpoint(e *psk.Endpoint) (Endpoint, error) {
	m, ok := mac.ParseString(e.MAC)
	if !ok {
		return Endpoint{}, fmt.Errorf("endpoint %d: stored MAC %q does not parse", e.ID, e.MAC)
	}
	out := Endpoint{ID: e.ID, GroupID: e.GroupID, MAC: m, PSKID: e.PSKID, Enabled: e.Enabled}
	if e.VLANID != nil {
		out.VLAN = *e.VLANID
	}
	return out, nil
}

// Snapshot reads the PSKs and the endpoints side by side, on two
// connections: a reload is two long scans (with the passphrases'
// decryption), and on a restart with a million stations running them one
// after the other kept one core idle. It reads only what the directory
// keeps (psk.Key, psk.Binding), so its PSKs have no Name.
func (a pskSource) Snapshot(ctx context.Context, onPSK func(PSK) error, onEndpoint func(Endpoint) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pskErr := make(chan error, 1)
	go func() {
		err := a.s.EachKey(ctx, func(k *psk.Key) error {
			return onPSK(PSK{ID: k.ID, GroupID: k.GroupID, Passphrase: k.Passphrase, VLAN: k.VLANID,
				Enabled: k.Enabled, ExpiresAt: k.Expires})
		})
		if err != nil {
			cancel()
		}
		pskErr <- err
	}()
	epErr := a.s.EachBinding(ctx, func(b *psk.Binding) error {
		m, ok := mac.Parse(b.MAC)
		if !ok {
			return fmt.Errorf("endpoint %d: stored MAC %q does not parse", b.ID, b.MAC)
		}
		return onEndpoint(Endpoint{ID: b.ID, GroupID: b.GroupID, MAC: m, PSKID: b.PSKID, VLAN: b.VLANID, Enabled: b.Enabled})
	})
	if epErr != nil {
		cancel()
	}
	if err := <-pskErr; err != nil {
		return err
	}
	return epErr
}

func (a pskSource) PSK(ctx context.Context, id int64) (PSK, error) {
	p, err := a.s.LoadPSK(ctx, id)
	if err != nil {
		return PSK{}, err
	}
	return fromPSK(p), nil
}

func (a pskSource) Endpoint(ctx context.Context, id int64) (Endpoint, error) {
	e, err := a.s.LoadEndpoint(ctx, id)
	if err != nil {
		return Endpoint{}, err
	}
	return fromEndpoint(e)
}

func (a pskSource) BindEndpoint(ctx context.Context, groupID, pskID int64, mac MAC) (Endpoint, error) {
	e, err := a.s.BindEndpoint(ctx, groupID, mac.String(), pskID)
	if err != nil {
		return Endpoint{}, err
	}
	return fromEndpoint(e)
}

func (a pskSource) TouchEndpoints(ctx context.Context, seen map[int64]time.Time) error {
	return a.s.TouchEndpoints(ctx, seen)
}
