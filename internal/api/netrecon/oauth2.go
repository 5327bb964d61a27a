package netrecon

import (
	"context"
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/sso"
)

// OAuth2 is NetRecon's OAuth2 authorization code flow (the seed documents
// /authorize and /token): the protocol endpoints and the sign-in and
// consent pages come from the provider; the client registry is here.
type OAuth2 struct {
	Provider OAuth2Provider
	Clients  OAuth2Clients
	// Auth attaches a browser session, when there is one, to the consent
	// page's requests.
	Auth *api.Authenticator
}

// OAuth2Provider serves the protocol and the pages (sso/provider).
type OAuth2Provider interface {
	Protocol() http.Handler
	Consent(w http.ResponseWriter, r *http.Request)
	Decide(w http.ResponseWriter, r *http.Request)
	LoginPage(w http.ResponseWriter, r *http.Request)
	Login(w http.ResponseWriter, r *http.Request)
}

// OAuth2Clients registers clients (sso.Service).
type OAuth2Clients interface {
	RegisterClient(ctx context.Context, p *authz.Principal, src audit.Source, in sso.ClientInput) (*sso.Client, string, error)
	ListClients(ctx context.Context, p *authz.Principal) ([]*sso.Client, error)
	GetClient(ctx context.Context, p *authz.Principal, id string) (*sso.Client, error)
	DeleteClient(ctx context.Context, p *authz.Principal, src audit.Source, id string) error
}

// clientView is a registered client; never its secret.
type clientView struct {
	ClientID     string    `json:"client_id"`
	Name         string    `json:"name"`
	Public       bool      `json:"public"`
	RedirectURIs []string  `json:"redirect_uris"`
	Scopes       []string  `json:"scopes"`
	GroupID      int64     `json:"group_id"`
	CreatedAt    time.Time `json:"created_at"`
}

func viewClient(c *sso.Client) clientView {
	return clientView{ClientID: c.ID, Name: c.Name, Public: c.Public, RedirectURIs: c.RedirectURIs,
		Scopes: c.Scopes, GroupID: c.GroupID, CreatedAt: c.CreatedAt}
}

// createdClient is the 201 answer: the secret is shown only here.
type createdClient struct {
	clientView
	ClientSecret string `json:"client_secret,omitempty"`
}

func (o *OAuth2) createClient(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name         string   `json:"name"`
		Public       bool     `json:"public"`
		RedirectURIs []string `json:"redirect_uris"`
		Scopes       []string `json:"scopes"`
		GroupID      int64    `json:"group_id"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	c, secret, err := o.Clients.RegisterClient(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r),
		sso.ClientInput{Name: in.Name, GroupID: in.GroupID, Public: in.Public, RedirectURIs: in.RedirectURIs, Scopes: in.Scopes})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, createdClient{clientView: viewClient(c), ClientSecret: secret})
}

func (o *OAuth2) listClients(w http.ResponseWriter, r *http.Request) {
	cs, err := o.Clients.ListClients(r.Context(), api.PrincipalFrom(r.Context()))
	api.RespondList(w, r, cs, err, viewClient)
}

func (o *OAuth2) getClient(w http.ResponseWriter, r *http.Request) {
	c, err := o.Clients.GetClient(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("client_id"))
	api.Respond(w, r, http.StatusOK, c, err, viewClient)
}

func (o *OAuth2) deleteClient(w http.ResponseWriter, r *http.Request) {
	if err := o.Clients.DeleteClient(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("client_id")); err != nil {
		api.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
