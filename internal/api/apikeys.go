package api

import (
	"context"
	"net/http"

	"netkeep/internal/apikey"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
)

// APIKeys is what the dialects' API-key routes need of the API key domain.
type APIKeys interface {
	Create(ctx context.Context, p *authz.Principal, src audit.Source, in apikey.NewKey) (*apikey.Key, string, error)
	List(ctx context.Context, p *authz.Principal) ([]*apikey.Key, error)
	Get(ctx context.Context, p *authz.Principal, id string) (*apikey.Key, error)
	Revoke(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*apikey.Key, error)
	Delete(ctx context.Context, p *authz.Principal, src audit.Source, id string) error
}

// KeyRoutes serves listing, reading and revoking API keys, which Nekzus's
// /api/v1/apikeys and NetRecon's /api/v1/api-keys do alike but for the shape
// of a key (View, never the secret) and the name of the path's key id
// (Param). There is one key model: both list every key the caller may see,
// whatever its format.
type KeyRoutes[V any] struct {
	Keys  APIKeys
	View  func(*apikey.Key) V
	Param string
}

// keyMessage is the body of a successful DELETE, as Nekzus documents it.
type keyMessage struct {
	Message string `json:"message"`
}

// List answers with a bare array, as the Nekzus seed documents.
func (k KeyRoutes[V]) List(w http.ResponseWriter, r *http.Request) {
	keys, err := k.Keys.List(r.Context(), PrincipalFrom(r.Context()))
	if err != nil {
		Error(w, r, err)
		return
	}
	out := make([]V, 0, len(keys))
	for _, key := range keys {
		out = append(out, k.View(key))
	}
	WriteJSON(w, http.StatusOK, out)
}

// Get answers with one key.
func (k KeyRoutes[V]) Get(w http.ResponseWriter, r *http.Request) {
	key, err := k.Keys.Get(r.Context(), PrincipalFrom(r.Context()), r.PathValue(k.Param))
	if err != nil {
		Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, k.View(key))
}

// Delete revokes a key, or deletes it with ?permanent=true.
func (k KeyRoutes[V]) Delete(w http.ResponseWriter, r *http.Request) {
	p, id := PrincipalFrom(r.Context()), r.PathValue(k.Param)
	if r.URL.Query().Get("permanent") == "true" {
		if err := k.Keys.Delete(r.Context(), p, Source(r), id); err != nil {
			Error(w, r, err)
			return
		}
		WriteJSON(w, http.StatusOK, keyMessage{"API key deleted successfully"})
		return
	}
	if _, err := k.Keys.Revoke(r.Context(), p, Source(r), id); err != nil {
		Error(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, keyMessage{"API key revoked successfully"})
}
