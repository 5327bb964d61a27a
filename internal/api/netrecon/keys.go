package netrecon

import (
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/apikey"
	"netkeep/internal/authz"
)

// The seed documents the key format, the permission names and DELETE; the
// other fields follow NetRecon's snake_case and its dashboard's words (name,
// permissions, expiry).

// keyView is a key as listed: never the secret. Permissions are the names the
// key was created with, as given, whatever they grant in netkeep.
type keyView struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Prefix        string     `json:"prefix"`
	Permissions   []string   `json:"permissions"`
	ExpiresAt     *time.Time `json:"expires_at"`
	LastUsedAt    *time.Time `json:"last_used_at"`
	CreatedAt     time.Time  `json:"created_at"`
	CreatedBy     string     `json:"created_by"`
	RevokedAt     *time.Time `json:"revoked_at"`
	RatePerHour   int        `json:"rate_limit_per_hour"`
	RatePerMinute int        `json:"rate_limit_per_minute"`
}

func viewKey(k *apikey.Key) keyView {
	return keyView{
		ID: k.ID, Name: k.Name, Prefix: k.Prefix, Permissions: k.Scopes, ExpiresAt: k.ExpiresAt,
		LastUsedAt: k.LastUsedAt, CreatedAt: k.CreatedAt, CreatedBy: k.CreatedByName, RevokedAt: k.RevokedAt,
		RatePerHour: k.RatePerHour, RatePerMinute: k.RatePerMinute,
	}
}

// createdKey is the 201 answer: the key with its secret, shown only here.
type createdKey struct {
	keyView
	Key string `json:"key"`
}

// createKey issues an nr_live_ key. Every permission must be one of
// NetRecon's documented names; those netkeep has nothing for are kept and
// grant nothing.
func (h *Handlers) createKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name          string     `json:"name"`
		Permissions   []string   `json:"permissions"`
		ExpiresAt     *time.Time `json:"expires_at"`
		RatePerHour   int        `json:"rate_limit_per_hour"`
		RatePerMinute int        `json:"rate_limit_per_minute"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	k, secret, err := h.Keys.Create(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), apikey.NewKey{
		Name: in.Name, Scopes: in.Permissions, Vocabulary: authz.VocabNetRecon, ExpiresAt: in.ExpiresAt,
		RatePerHour: in.RatePerHour, RatePerMinute: in.RatePerMinute,
	})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, createdKey{keyView: viewKey(k), Key: secret})
}
