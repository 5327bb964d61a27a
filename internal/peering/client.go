package peering

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"netkeep/internal/fault"
	"netkeep/internal/federation"
)

// Links calls peers: it implements federation.Link, and
// proxy.PeerTransports for the apps' requests. Transports are kept per pin
// so a peer's connections are reused.
type Links struct {
	// TLS returns the client configuration pinned to a CA fingerprint
	// (federation.Service.ClientTLS).
	TLS func(pin string) (*tls.Config, error)
	// Timeout bounds join and catalog calls (10 s).
	Timeout time.Duration

	transports sync.Map // pin -> *http.Transport
}

func newTransport(cfg *tls.Config) *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       cfg,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     true,
	}
}

// Transport returns the transport to the peer pinned to pin.
func (l *Links) Transport(pin string) (http.RoundTripper, error) {
	if t, ok := l.transports.Load(pin); ok {
		return t.(*http.Transport), nil
	}
	cfg, err := l.TLS(pin)
	if err != nil {
		return nil, err
	}
	t, _ := l.transports.LoadOrStore(pin, newTransport(cfg))
	return t.(*http.Transport), nil
}

// Join presents a token's secret to the peer at peerURL.
func (l *Links) Join(ctx context.Context, peerURL, pin string, req federation.JoinRequest) (federation.JoinAnswer, error) {
	var ans federation.JoinAnswer
	body, err := json.Marshal(req)
	if err != nil {
		return ans, err
	}
	cfg, err := l.TLS(pin)
	if err != nil {
		return ans, err
	}
	// A fresh transport: the pin is not trusted by anything kept yet.
	t := newTransport(cfg)
	defer t.CloseIdleConnections()
	err = l.call(ctx, t, http.MethodPost, peerURL+"/federation/v1/join", body, &ans)
	return ans, err
}

// Catalog fetches the apps the peer at peerURL shares.
func (l *Links) Catalog(ctx context.Context, peerURL, pin string) (*federation.Shared, error) {
	t, err := l.Transport(pin)
	if err != nil {
		return nil, err
	}
	var out federation.Shared
	if err := l.call(ctx, t, http.MethodGet, peerURL+"/federation/v1/catalog", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// call performs one JSON request and decodes a 2xx answer into out; a
// refusal keeps the peer's code and message, a failed connection is
// unavailable.
func (l *Links) call(ctx context.Context, rt http.RoundTripper, method, url string, body []byte, out any) error {
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return fault.New(fault.Invalid, "the peer's URL is not usable").Wrap(err)
	}
	req.Header.Set("User-Agent", "netkeep-federation")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return unreachable(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return unreachable(err)
	}
	if resp.StatusCode/100 != 2 {
		return refusal(resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fault.New(fault.BadGateway, "the peer's answer is not understood").Wrap(err)
	}
	return nil
}

// unreachable describes a failed connection; a certificate that is not
// the pinned one says so.
func unreachable(err error) error {
	var fe *fault.Error
	if errors.As(err, &fe) || strings.Contains(err.Error(), "not from a pinned") {
		return fault.New(fault.Unavailable, "the peer's certificate is not from the pinned CA").Wrap(err)
	}
	return fault.New(fault.Unavailable, "the peer could not be reached").Wrap(err)
}

// refusals are the peer's answers that keep their meaning here; any other
// is a bad gateway.
var refusals = map[int]fault.Code{
	http.StatusBadRequest: fault.Invalid, http.StatusForbidden: fault.Forbidden,
	http.StatusNotFound: fault.NotFound, http.StatusConflict: fault.Conflict,
}

// refusal turns a peer's error answer into a fault with its code.
func refusal(status int, data []byte) error {
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(data, &env)
	msg := env.Error.Message
	if msg == "" {
		msg = fmt.Sprintf("the peer answered %d", status)
	}
	code, ok := refusals[status]
	if !ok {
		code = fault.BadGateway
	}
	return fault.New(code, "the peer refused: "+msg)
}
