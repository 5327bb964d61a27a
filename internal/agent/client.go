package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/meshwire"
)

// Client calls the Netmaker dialect of a netkeep server as a node.
type Client struct {
	Server string // base URL, e.g. https://netkeep.example.com
	HTTP   *http.Client
}

// APIError is a server's refusal: its HTTP status and the dialect's
// {"error": {"code", "message"}} envelope.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("server answered %d", e.Status)
	}
	return fmt.Sprintf("server answered %d: %s", e.Status, e.Message)
}

// statusOf is err's HTTP status, 0 when it is not an API answer.
func statusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// Token is a node JWT and its expiry.
type Token struct {
	Value   string
	Expires time.Time
}

// JoinRequest is the body of POST /api/nodes/{network}.
type JoinRequest struct {
	AccessKey  string `json:"accesskey"`
	MACAddress string `json:"macaddress"`
	PublicKey  string `json:"publickey"`
	Password   string `json:"password,omitempty"`
	Name       string `json:"name,omitempty"`
	Endpoint   string `json:"endpoint,omitempty"`
	ListenPort int    `json:"listenport,omitempty"`
	Interface  string `json:"interface,omitempty"`
	OS         string `json:"os,omitempty"`
}

// Join registers a node with an access key.
func (c *Client) Join(ctx context.Context, network string, in JoinRequest) (meshwire.Node, Token, error) {
	var n meshwire.Node
	h, err := c.do(ctx, "POST", "/api/nodes/"+url.PathEscape(network), "", in, &n)
	return n, tokenFrom(h), err
}

// CheckIn records liveness and returns the node and a renewed token.
func (c *Client) CheckIn(ctx context.Context, network, mac, token string) (meshwire.Node, Token, error) {
	var n meshwire.Node
	h, err := c.do(ctx, "POST", nodePath(network, mac)+"/checkin", token, nil, &n)
	return n, tokenFrom(h), err
}

// UpdateNode changes the node's own fields (public key, endpoint, listen
// port); only the keys present in patch are sent.
func (c *Client) UpdateNode(ctx context.Context, network, mac, token string, patch map[string]any) (meshwire.Node, error) {
	var n meshwire.Node
	_, err := c.do(ctx, "PUT", nodePath(network, mac), token, patch, &n)
	return n, err
}

// DeleteNode removes the node (leaving).
func (c *Client) DeleteNode(ctx context.Context, network, mac, token string) error {
	_, err := c.do(ctx, "DELETE", nodePath(network, mac), token, nil, nil)
	return err
}

// Authenticate exchanges the node's macaddress and password for a token.
func (c *Client) Authenticate(ctx context.Context, network, mac, password string) (Token, error) {
	var out struct {
		Response struct {
			AuthToken string    `json:"AuthToken"`
			ExpiresAt time.Time `json:"ExpiresAt"`
		} `json:"Response"`
	}
	_, err := c.do(ctx, "POST", "/api/nodes/adm/"+url.PathEscape(network)+"/authenticate", "",
		map[string]string{"macaddress": mac, "password": password}, &out)
	if err != nil {
		return Token{}, err
	}
	if out.Response.AuthToken == "" {
		return Token{}, errors.New("authenticate answered without a token")
	}
	return Token{Value: out.Response.AuthToken, Expires: out.Response.ExpiresAt}, nil
}

// maxViewBytes bounds one stream message: a full view is about 300 bytes a
// peer, so this allows well over 100,000 peers.
const maxViewBytes = 64 << 20

// DialStream opens the node's push stream. held, when not nil, is the
// digest of the view the agent holds: the server then starts with a sync of
// what differs instead of the full view.
func (c *Client) DialStream(ctx context.Context, network, mac, token string, held *meshwire.ViewDigest) (*websocket.Conn, error) {
	u := strings.TrimRight(c.Server, "/") + nodePath(network, mac) + "/stream"
	h := http.Header{"Authorization": {"Bearer " + token}}
	if held != nil {
		h.Set(meshwire.HeaderView, held.String())
	}
	conn, res, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: c.HTTP, HTTPHeader: h})
	if err != nil {
		if res != nil && res.StatusCode != http.StatusSwitchingProtocols {
			return nil, apiError(res.StatusCode, readBody(res))
		}
		return nil, err
	}
	conn.SetReadLimit(maxViewBytes)
	return conn, nil
}

func readBody(res *http.Response) []byte {
	if res.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return b
}

func nodePath(network, mac string) string {
	return "/api/nodes/" + url.PathEscape(network) + "/" + url.PathEscape(mac)
}

func tokenFrom(h http.Header) Token {
	t := Token{Value: h.Get("X-Node-Token")}
	t.Expires, _ = time.Parse(time.RFC3339, h.Get("X-Node-Token-Expires"))
	return t
}

// callTimeout bounds every plain API call, so a server that stops
// answering cannot stall the agent's loop (the stream is not a plain call).
const callTimeout = 30 * time.Second

// do sends a JSON request and decodes a JSON answer into out (when not nil),
// within callTimeout.
func (c *Client) do(ctx context.Context, method, path, token string, in, out any) (http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Server, "/")+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxViewBytes))
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		return res.Header, apiError(res.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return res.Header, fmt.Errorf("decoding the answer to %s %s: %w", method, path, err)
		}
	}
	return res.Header, nil
}

func apiError(status int, raw []byte) *APIError {
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(raw, &env)
	return &APIError{Status: status, Code: env.Error.Code, Message: env.Error.Message}
}
