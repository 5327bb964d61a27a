package proxy

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"netkeep/internal/catalog"
)

// Client makes the catalog's own requests to upstreams: health probes
// (catalog.Prober) and favicon fetches (catalog.IconFetcher). It keeps a
// small keep-alive pool per upstream and never follows a proxy from the
// environment.
type Client struct {
	http *http.Client
}

// NewClient returns a client; requests are bounded by their context.
func NewClient() *Client {
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       5 * time.Minute,
		TLSHandshakeTimeout:   5 * time.Second,
		DisableCompression:    true,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	t.RegisterProtocol("h2c", h2c(t))
	return &Client{http: &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // a redirect is an answer: the upstream is up
	}}}
}

// Probe GETs url and returns the status code. The body is drained (a
// little of it) so the connection is reused.
func (c *Client) Probe(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "netkeep-health")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// maxIcon is the largest favicon kept.
const maxIcon = 256 << 10

// FetchIcon GETs the upstream's /favicon.ico. It returns nil when there is
// none, or when the answer is not an image.
func (c *Client) FetchIcon(ctx context.Context, upstream string) (*catalog.Icon, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(upstream, "/")+"/favicon.ico", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxIcon+1))
	if err != nil || len(data) == 0 || len(data) > maxIcon {
		return nil, err
	}
	ct := iconType(resp.Header.Get("Content-Type"), data)
	if ct == "" {
		return nil, nil
	}
	return &catalog.Icon{ContentType: ct, Data: data}, nil
}

// iconType is the image type of a favicon: the declared one when it is an
// image, else what the bytes look like. SVG is refused: it can carry
// script, and favicons are served from netkeep's own origin.
func iconType(declared string, data []byte) string {
	mt, _, _ := mime.ParseMediaType(declared)
	if mt == "" || mt == "application/octet-stream" || mt == "text/plain" {
		mt, _, _ = mime.ParseMediaType(http.DetectContentType(data))
	}
	if bytes.HasPrefix(data, []byte{0, 0, 1, 0}) {
		mt = "image/x-icon"
	}
	if !strings.HasPrefix(mt, "image/") || strings.Contains(mt, "svg") {
		return ""
	}
	return mt
}
