package provider

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"

	"netkeep/internal/audit"
	"netkeep/internal/identity"
	"netkeep/internal/sso"
)

// Paths of the protocol endpoints. /authorize and /token are NetRecon's
// documented ones; the rest sit beside them, discovery and JWKS under
// /.well-known.
const (
	AuthorizePath  = "/api/v1/auth/oauth2/authorize"
	CallbackPath   = AuthorizePath + "/callback" // op's return from the consent page
	TokenPath      = "/api/v1/auth/oauth2/token"
	UserinfoPath   = "/api/v1/auth/oauth2/userinfo"
	RevokePath     = "/api/v1/auth/oauth2/revoke"
	IntrospectPath = "/api/v1/auth/oauth2/introspect"
	EndSessionPath = "/api/v1/auth/oauth2/logout"
	DiscoveryPath  = "/.well-known/openid-configuration"
	JWKSPath       = "/.well-known/jwks.json"
)

// Identity is what the provider needs of identity: sign-in for the login
// page, browser sessions, and the users claims are about.
type Identity interface {
	Users
	Login(ctx context.Context, src audit.Source, req identity.LoginRequest) (*identity.LoginResult, error)
	WebToken(ctx context.Context, userID int64, sessionID string) (string, time.Time, error)
}

// Config configures the provider.
type Config struct {
	// PublicURL is the issuer (https://host[:port][/path] as clients reach
	// netkeep); empty: taken from each request's Host (and, with
	// TrustProxyHeaders, its Forwarded / X-Forwarded-* headers).
	PublicURL         string
	TrustProxyHeaders bool
	Logger            *slog.Logger // op's request errors; nil: slog.Default()
}

// Provider is netkeep's OpenID provider.
type Provider struct {
	sso      *sso.Service
	users    Identity
	op       *op.Provider
	verified identity.VerifiedTokens[*accessClaims] // see AuthenticateDelegated
}

// New builds the provider over svc.
func New(svc *sso.Service, users Identity, cfg Config) (*Provider, error) {
	st := &storage{sso: svc, users: users, loginURL: ConsentPath}
	issuer := op.IssuerFromHost("")
	switch {
	case cfg.PublicURL != "":
		issuer = op.StaticIssuer(cfg.PublicURL)
	case cfg.TrustProxyHeaders:
		issuer = op.IssuerFromForwardedOrHost("")
	}
	opCfg := &op.Config{
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedScopes:       supportedScopes(),
	}
	// The issuer may be plain http (tests, a TLS-terminating proxy that is
	// not configured as PublicURL); clients decide whether to accept it.
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	o, err := op.NewProvider(opCfg, st, issuer, op.WithAllowInsecure(), op.WithLogger(log),
		op.WithCustomAuthEndpoint(op.NewEndpoint(AuthorizePath)),
		op.WithCustomTokenEndpoint(op.NewEndpoint(TokenPath)),
		op.WithCustomUserinfoEndpoint(op.NewEndpoint(UserinfoPath)),
		op.WithCustomRevocationEndpoint(op.NewEndpoint(RevokePath)),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint(IntrospectPath)),
		op.WithCustomEndSessionEndpoint(op.NewEndpoint(EndSessionPath)),
		op.WithCustomKeysEndpoint(op.NewEndpoint(JWKSPath)),
	)
	if err != nil {
		return nil, fmt.Errorf("building the OpenID provider: %w", err)
	}
	return &Provider{sso: svc, users: users, op: o}, nil
}

// Protocol serves the protocol endpoints (the paths above); the router
// sends only those here.
func (p *Provider) Protocol() http.Handler { return p.op }

// request returns a live authorization request and its client.
func (p *Provider) request(r *http.Request, id string) (*authRequest, *sso.Client, error) {
	ar, err := p.sso.AuthRequest(r.Context(), id)
	if err != nil {
		return nil, nil, err
	}
	req, err := newAuthRequest(ar)
	if err != nil {
		return nil, nil, err
	}
	c, err := p.sso.Client(r.Context(), ar.ClientID)
	if err != nil {
		return nil, nil, sso.ErrRequestNotFound
	}
	return req, c, nil
}
