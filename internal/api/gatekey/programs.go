package gatekey

import (
	"context"
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/apikey"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/identity"
)

// Endpoints GateKey's own programs call that the seed does not document:
// the gatekey client's and gatekey-admin's API key check and server
// information, and the web UI's list of sign-in providers.

// Keys is what these handlers and gatekey-admin's API key views
// (admin_views.go) need of API keys; *apikey.Service implements it.
type Keys interface {
	Self(ctx context.Context, p *authz.Principal) (*apikey.Key, error)
	// The admin views' (administrators only).
	ListAsAdmin(ctx context.Context, p *authz.Principal) ([]*apikey.Key, error)
	GetAsAdmin(ctx context.Context, p *authz.Principal, id string) (*apikey.Key, error)
	Create(ctx context.Context, p *authz.Principal, src audit.Source, in apikey.NewKey) (*apikey.Key, string, error)
	RevokeAsAdmin(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*apikey.Key, error)
	// A user's keys, held by an administrator (admin_actions.go).
	CreateFor(ctx context.Context, p *authz.Principal, src audit.Source, userID int64, in apikey.NewKey) (*apikey.Key, string, error)
	ListFor(ctx context.Context, p *authz.Principal, userID int64) ([]*apikey.Key, error)
	RevokeFor(ctx context.Context, p *authz.Principal, src audit.Source, userID int64) (int, error)
}

// Providers lists the identity providers (OIDC, SAML) a browser may sign
// in with, besides the local login. It may be nil: then only the local
// login is listed.
type Providers interface {
	LoginProviders(ctx context.Context) ([]Provider, error)
}

// Provider is one way to sign in, as GateKey's web UI lists it.
type Provider struct {
	Type        string `json:"type"` // "local", "oidc", "saml"
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	LoginURL    string `json:"login_url"`
}

// keyCheckJSON answers GET /api/v1/auth/api-key/validate: whose key it is
// and its name, which `gatekey login --api-key` prints before storing it.
type keyCheckJSON struct {
	Valid bool `json:"valid"`
	User  struct {
		ID       int64  `json:"id"`
		Username string `json:"username"`
		Email    string `json:"email"`
		Name     string `json:"name"`
	} `json:"user"`
	APIKey struct {
		ID     string   `json:"id"`
		Name   string   `json:"name"`
		Prefix string   `json:"prefix"`
		Scopes []string `json:"scopes"`
	} `json:"api_key"`
}

// validateKey answers for the API key of the request (401 for a bad one,
// by the authenticator); a session token is described too, without key.
func (h *Handlers) validateKey(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	u, err := h.Identity.Self(r.Context(), p)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := keyCheckJSON{Valid: true}
	out.User.ID, out.User.Username, out.User.Email, out.User.Name = u.ID, u.Username, u.Email, displayName(u)
	if p.Kind == authz.KindAPIKey {
		k, err := h.Keys.Self(r.Context(), p)
		if err != nil {
			api.Error(w, r, err)
			return
		}
		out.APIKey.ID, out.APIKey.Name, out.APIKey.Prefix, out.APIKey.Scopes = k.ID, k.Name, k.Prefix, orEmpty(k.Scopes)
	}
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, out)
}

// displayName is the user's full name, else the username.
func displayName(u *identity.User) string {
	if u.FullName != "" {
		return u.FullName
	}
	return u.Username
}

// serverInfoJSON is what the gatekey client asks before generating a
// config: whether the server requires FIPS-validated cryptography (netkeep
// does not).
type serverInfoJSON struct {
	Name        string `json:"name"`
	Product     string `json:"product"`
	APIVersion  string `json:"api_version"`
	Version     string `json:"version"`
	RequireFIPS bool   `json:"require_fips"`
}

func (h *Handlers) serverInfo(w http.ResponseWriter, r *http.Request) {
	api.WriteJSON(w, http.StatusOK, serverInfoJSON{Name: "netkeep", Product: "netkeep", APIVersion: api.Version,
		Version: h.Version})
}

// providers lists the ways to sign in: the identity providers configured
// (when a Providers is wired), then the local login.
func (h *Handlers) providers(w http.ResponseWriter, r *http.Request) {
	out := []Provider{}
	if h.Providers != nil {
		ps, err := h.Providers.LoginProviders(r.Context())
		if err != nil {
			api.Error(w, r, err)
			return
		}
		out = append(out, ps...)
	}
	out = append(out, Provider{Type: "local", Name: "local", DisplayName: "Local login", LoginURL: "/api/v1/auth/local/login"})
	api.WriteJSON(w, http.StatusOK, map[string][]Provider{"providers": out})
}
