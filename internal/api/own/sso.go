package own

import (
	"context"
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/sso"
)

// SSO is single sign-on's part of netkeep's own API: the identity
// providers administrators configure (/api/v1/sso/providers) and the
// OpenID provider's discovery and keys under /.well-known.
type SSO struct {
	Providers Providers
	// OpenID serves /.well-known/openid-configuration and /.well-known/jwks.json.
	OpenID http.Handler
}

// Providers manages identity providers (sso.Service).
type Providers interface {
	CreateProvider(ctx context.Context, p *authz.Principal, src audit.Source, in sso.ProviderInput) (*sso.Provider, error)
	UpdateProvider(ctx context.Context, p *authz.Principal, src audit.Source, name string, in sso.ProviderInput) (*sso.Provider, error)
	DeleteProvider(ctx context.Context, p *authz.Principal, src audit.Source, name string) error
	GetProvider(ctx context.Context, p *authz.Principal, name string) (*sso.Provider, error)
	ListProviders(ctx context.Context, p *authz.Principal) ([]*sso.Provider, error)
}

// providerView is a provider as administrators see it: never its secret.
type providerView struct {
	Name        string       `json:"name"`
	Type        sso.Kind     `json:"type"`
	DisplayName string       `json:"display_name"`
	GroupID     int64        `json:"group_id"`
	Settings    sso.Settings `json:"settings"`
	HasSecret   bool         `json:"has_client_secret"`
	Managed     bool         `json:"managed"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

func viewProvider(p *sso.Provider) providerView {
	return providerView{Name: p.Name, Type: p.Kind, DisplayName: p.DisplayName, GroupID: p.GroupID, Settings: p.Settings,
		HasSecret: p.HasSecret, Managed: p.Managed, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// providerBody is a create or update request. client_secret absent keeps
// the stored one on update; "" clears it.
type providerBody struct {
	Name         string       `json:"name"`
	Type         sso.Kind     `json:"type"`
	DisplayName  string       `json:"display_name"`
	GroupID      int64        `json:"group_id"`
	Settings     sso.Settings `json:"settings"`
	ClientSecret *string      `json:"client_secret"`
}

func (b providerBody) input() sso.ProviderInput {
	return sso.ProviderInput{Name: b.Name, Kind: b.Type, DisplayName: b.DisplayName, GroupID: b.GroupID,
		Settings: b.Settings, ClientSecret: b.ClientSecret}
}

func (s *SSO) listProviders(w http.ResponseWriter, r *http.Request) {
	ps, err := s.Providers.ListProviders(r.Context(), api.PrincipalFrom(r.Context()))
	api.RespondList(w, r, ps, err, viewProvider)
}

func (s *SSO) getProvider(w http.ResponseWriter, r *http.Request) {
	p, err := s.Providers.GetProvider(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("name"))
	api.Respond(w, r, http.StatusOK, p, err, viewProvider)
}

func (s *SSO) createProvider(w http.ResponseWriter, r *http.Request) {
	var b providerBody
	if err := api.Decode(r, &b); err != nil {
		api.Error(w, r, err)
		return
	}
	p, err := s.Providers.CreateProvider(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), b.input())
	api.Respond(w, r, http.StatusCreated, p, err, viewProvider)
}

func (s *SSO) updateProvider(w http.ResponseWriter, r *http.Request) {
	var b providerBody
	if err := api.Decode(r, &b); err != nil {
		api.Error(w, r, err)
		return
	}
	p, err := s.Providers.UpdateProvider(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("name"), b.input())
	api.Respond(w, r, http.StatusOK, p, err, viewProvider)
}

func (s *SSO) deleteProvider(w http.ResponseWriter, r *http.Request) {
	if err := s.Providers.DeleteProvider(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("name")); err != nil {
		api.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
