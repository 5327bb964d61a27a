package nekzus

import (
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/apikey"
)

// keyJSON is a key as listed: never the secret.
func keyJSON(k *apikey.Key) map[string]any {
	return map[string]any{
		"id": k.ID, "name": k.Name, "prefix": k.Prefix, "scopes": k.Scopes,
		"expiresAt": k.ExpiresAt, "lastUsedAt": k.LastUsedAt, "createdAt": k.CreatedAt,
		"createdBy": k.CreatedByName, "revokedAt": k.RevokedAt,
		"rate_limit_per_hour": k.RatePerHour, "rate_limit_per_minute": k.RatePerMinute,
	}
}

func (h *Handlers) createKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name          string     `json:"name"`
		Scopes        []string   `json:"scopes"`
		Permissions   []string   `json:"permissions"` // NetRecon's name for scopes
		ExpiresAt     *time.Time `json:"expiresAt"`
		ExpiresAtAlt  *time.Time `json:"expires_at"`
		RatePerHour   int        `json:"rate_limit_per_hour"`
		RatePerMinute int        `json:"rate_limit_per_minute"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	if in.Scopes == nil {
		in.Scopes = in.Permissions
	}
	if in.ExpiresAt == nil {
		in.ExpiresAt = in.ExpiresAtAlt
	}
	k, secret, err := h.Keys.Create(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), apikey.NewKey{
		Name: in.Name, Scopes: in.Scopes, ExpiresAt: in.ExpiresAt, RatePerHour: in.RatePerHour, RatePerMinute: in.RatePerMinute,
	})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	body := keyJSON(k)
	body["key"] = secret
	delete(body, "lastUsedAt")
	delete(body, "revokedAt")
	api.WriteJSON(w, http.StatusCreated, body)
}

// listKeys answers with a bare array, as the Nekzus seed documents.
func (h *Handlers) listKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := h.Keys.List(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyJSON(k))
	}
	api.WriteJSON(w, http.StatusOK, out)
}

func (h *Handlers) getKey(w http.ResponseWriter, r *http.Request) {
	k, err := h.Keys.Get(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("keyId"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, keyJSON(k))
}

// deleteKey revokes a key, or deletes it with ?permanent=true.
func (h *Handlers) deleteKey(w http.ResponseWriter, r *http.Request) {
	p, id := api.PrincipalFrom(r.Context()), r.PathValue("keyId")
	if r.URL.Query().Get("permanent") == "true" {
		if err := h.Keys.Delete(r.Context(), p, api.Source(r), id); err != nil {
			api.Error(w, r, err)
			return
		}
		api.WriteJSON(w, http.StatusOK, map[string]string{"message": "API key deleted successfully"})
		return
	}
	if _, err := h.Keys.Revoke(r.Context(), p, api.Source(r), id); err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]string{"message": "API key revoked successfully"})
}
