package sso

import (
	"context"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/identity"
)

// Store is sso's view of persistence. Methods return fault errors:
// not_found for missing rows, conflict for duplicates.
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Tx is one transaction over sso's tables, and the user and group rows
// just-in-time provisioning writes in the same transaction.
type Tx interface {
	audit.Writer
	LockScope(ctx context.Context, key int64) error

	CreateSSOProvider(ctx context.Context, p *Provider) error
	UpdateSSOProvider(ctx context.Context, p *Provider) error
	DeleteSSOProvider(ctx context.Context, id int64) error
	SSOProviderByName(ctx context.Context, name string) (*Provider, error)
	ListSSOProviders(ctx context.Context, groupID int64) ([]*Provider, error)

	SSOLinkedUser(ctx context.Context, providerID int64, subject string) (int64, error)
	CreateSSOLink(ctx context.Context, providerID int64, subject string, userID int64, at time.Time) error
	ConsumeSSOAssertion(ctx context.Context, id string, expires, now time.Time) (bool, error)

	GroupByID(ctx context.Context, id int64) (*identity.Group, error)
	GroupByName(ctx context.Context, name string) (*identity.Group, error)
	CreateUser(ctx context.Context, u *identity.User) error
	UserByID(ctx context.Context, id int64) (*identity.User, error)
	UserByLogin(ctx context.Context, login string) (*identity.User, error)
	UpdateUser(ctx context.Context, u *identity.User) error

	CreateOAuthClient(ctx context.Context, c *Client) error
	OAuthClientByID(ctx context.Context, id string) (*Client, error)
	ListOAuthClients(ctx context.Context, groupID int64) ([]*Client, error)
	DeleteOAuthClient(ctx context.Context, id string) error
	OAuthClientSessions(ctx context.Context, clientID string) ([]string, error)

	CreateAuthRequest(ctx context.Context, r *AuthRequest) error
	AuthRequestByID(ctx context.Context, id string) (*AuthRequest, error)
	AuthRequestByCode(ctx context.Context, codeHash string) (*AuthRequest, error)
	UpdateAuthRequest(ctx context.Context, r *AuthRequest) error
	DeleteAuthRequest(ctx context.Context, id string) error
	DeleteExpiredAuthRequests(ctx context.Context, now time.Time) (int64, error)

	CreateOAuthGrant(ctx context.Context, g *Grant) error
	OAuthGrant(ctx context.Context, sessionID string) (*Grant, error)

	CreateOAuthRefreshToken(ctx context.Context, t *RefreshToken) error
	OAuthRefreshTokenByHash(ctx context.Context, hash string) (*RefreshToken, error)
	UseOAuthRefreshToken(ctx context.Context, hash string, at time.Time) (*RefreshToken, error)

	CreateSigningKey(ctx context.Context, k *SigningKey) error
	ListSigningKeys(ctx context.Context, since time.Time) ([]*SigningKey, error)
}

// lockKeys serialises signing-key rotation across replicas.
const lockKeys = 0x6e6b6f6b // "nkok"
