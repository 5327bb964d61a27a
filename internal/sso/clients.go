package sso

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// ClientInput registers an OAuth2 client.
type ClientInput struct {
	Name         string
	GroupID      int64 // 0: the caller's group
	Public       bool
	RedirectURIs []string
	Scopes       []string
}

// OpenID scopes a client may always ask for; they grant no API access.
var openIDScopes = []string{"openid", "profile", "email", "offline_access"}

// IsOpenIDScope reports whether name is an OpenID Connect scope rather
// than an API scope.
func IsOpenIDScope(name string) bool { return slices.Contains(openIDScopes, name) }

// mayManageClients: group administrators register their group's clients.
func mayManageClients(p *authz.Principal, groupID int64) error {
	return authz.Allow(p, "users:write", authz.Resource{GroupID: groupID})
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// RegisterClient registers a client and returns it with its secret, shown
// this once (none for public clients). Errors: forbidden, invalid.
func (s *Service) RegisterClient(ctx context.Context, p *authz.Principal, src audit.Source, in ClientInput) (*Client, string, error) {
	if in.GroupID == 0 {
		in.GroupID = p.GroupID
	}
	if err := mayManageClients(p, in.GroupID); err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil, "", fault.New(fault.Forbidden, "you cannot register clients in another group")
		}
		return nil, "", err
	}
	if in.Name = strings.TrimSpace(in.Name); in.Name == "" || len(in.Name) > 100 {
		return nil, "", invalid("name", "name is required (at most 100 characters)")
	}
	if len(in.RedirectURIs) == 0 {
		return nil, "", invalid("redirect_uris", "at least one redirect URI is required")
	}
	for _, r := range in.RedirectURIs {
		u, err := url.Parse(r)
		if err != nil || u.Scheme == "" || u.Host == "" || u.Fragment != "" {
			return nil, "", invalid("redirect_uris", "redirect URIs must be absolute URLs without a fragment")
		}
	}
	if len(in.Scopes) == 0 {
		return nil, "", invalid("scopes", "at least one scope is required")
	}
	for _, sc := range in.Scopes {
		if IsOpenIDScope(sc) {
			continue
		}
		if _, err := authz.ParseScopes([]string{sc}); err != nil {
			return nil, "", invalid("scopes", "unknown scope "+sc)
		}
	}
	c := &Client{ID: "nkc_" + randomToken(18), Name: in.Name, GroupID: in.GroupID, CreatedBy: p.UserID,
		Public: in.Public, RedirectURIs: in.RedirectURIs, Scopes: in.Scopes, CreatedAt: s.now().UTC()}
	var secret string
	if !in.Public {
		secret = "nks_" + randomToken(32)
		c.SecretHash = sha256.Sum256([]byte(secret))
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.GroupByID(ctx, in.GroupID); err != nil {
			return invalid("group_id", "group does not exist")
		}
		if err := tx.CreateOAuthClient(ctx, c); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, c.GroupID, "oauth2.client_create", "oauth_client:"+c.ID,
			map[string]any{"name": c.Name, "public": c.Public, "redirect_uris": c.RedirectURIs, "scopes": c.Scopes})
	})
	if err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// ListClients lists the clients of the caller's group (every group's for
// super principals).
func (s *Service) ListClients(ctx context.Context, p *authz.Principal) ([]*Client, error) {
	if err := mayManageClients(p, authz.Any.GroupID); err != nil {
		return nil, err
	}
	return s.store.Read().ListOAuthClients(ctx, p.GroupScope())
}

// GetClient returns one client; another group's is not_found.
func (s *Service) GetClient(ctx context.Context, p *authz.Principal, id string) (*Client, error) {
	c, err := s.store.Read().OAuthClientByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := mayManageClients(p, c.GroupID); err != nil {
		return nil, err
	}
	return c, nil
}

// DeleteClient removes a client: its codes and refresh tokens go with it,
// and its grants' sessions are revoked, so its access tokens stop working.
func (s *Service) DeleteClient(ctx context.Context, p *authz.Principal, src audit.Source, id string) error {
	c, err := s.GetClient(ctx, p, id)
	if err != nil {
		return err
	}
	var sessions []string
	err = s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if sessions, err = tx.OAuthClientSessions(ctx, c.ID); err != nil {
			return err
		}
		if err := tx.DeleteOAuthClient(ctx, c.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, c.GroupID, "oauth2.client_delete", "oauth_client:"+c.ID, map[string]any{"name": c.Name})
	})
	if err != nil {
		return err
	}
	s.forgetClient(c.ID)
	for _, sid := range sessions {
		if err := s.sessions.EndSession(ctx, src, sid, "oauth2 client deleted"); err != nil {
			return err
		}
	}
	return nil
}

// Client returns a client for the protocol layer, from a short-lived
// cache (clients change rarely and every token request reads its client
// several times). A deleted client may linger here for clientCacheTTL on
// other replicas: harmless, as its grants' sessions are revoked and its
// refresh tokens deleted with it. Errors: not_found.
func (s *Service) Client(ctx context.Context, id string) (*Client, error) {
	now := s.now()
	s.clientMu.Lock()
	e, ok := s.clients[id]
	s.clientMu.Unlock()
	if ok && now.Sub(e.loaded) < clientCacheTTL {
		return e.c, nil
	}
	c, err := s.store.Read().OAuthClientByID(ctx, id)
	if err != nil {
		return nil, err
	}
	s.clientMu.Lock()
	if len(s.clients) >= maxCachedClients {
		clear(s.clients)
	}
	s.clients[id] = cachedClient{c: c, loaded: now}
	s.clientMu.Unlock()
	return c, nil
}

// forgetClient drops a client from the cache (deleted here).
func (s *Service) forgetClient(id string) {
	s.clientMu.Lock()
	delete(s.clients, id)
	s.clientMu.Unlock()
}

const (
	clientCacheTTL   = 10 * time.Second
	maxCachedClients = 10000
)

type cachedClient struct {
	c      *Client
	loaded time.Time
}

var errBadClient = fault.New(fault.Unauthorized, "invalid client credentials")

// AuthenticateClient checks a confidential client's secret (in constant
// time over its SHA-256). Errors: unauthorized.
func (s *Service) AuthenticateClient(ctx context.Context, id, secret string) (*Client, error) {
	c, err := s.Client(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return nil, errBadClient
	}
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte(secret))
	if c.Public || subtle.ConstantTimeCompare(h[:], c.SecretHash[:]) != 1 {
		return nil, errBadClient
	}
	return c, nil
}
