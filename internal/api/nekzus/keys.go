package nekzus

import (
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/apikey"
)

// keyView is a key as Nekzus lists it: never the secret. Scopes are the names
// the key was created with, as given. The rate limits are NetKey's, which
// this path shares.
type keyView struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Prefix        string     `json:"prefix"`
	Scopes        []string   `json:"scopes"`
	ExpiresAt     *time.Time `json:"expiresAt"`
	LastUsedAt    *time.Time `json:"lastUsedAt"`
	CreatedAt     time.Time  `json:"createdAt"`
	CreatedBy     string     `json:"createdBy"`
	RevokedAt     *time.Time `json:"revokedAt"`
	RatePerHour   int        `json:"rate_limit_per_hour"`
	RatePerMinute int        `json:"rate_limit_per_minute"`
}

func viewKey(k *apikey.Key) keyView {
	return keyView{
		ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: k.Scopes, ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt,
		CreatedAt: k.CreatedAt, CreatedBy: k.CreatedByName, RevokedAt: k.RevokedAt,
		RatePerHour: k.RatePerHour, RatePerMinute: k.RatePerMinute,
	}
}

// createdKey is the 201 answer: the key with its secret, shown only here.
type createdKey struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Prefix        string     `json:"prefix"`
	Key           string     `json:"key"`
	Scopes        []string   `json:"scopes"`
	ExpiresAt     *time.Time `json:"expiresAt"`
	CreatedAt     time.Time  `json:"createdAt"`
	CreatedBy     string     `json:"createdBy"`
	RatePerHour   int        `json:"rate_limit_per_hour"`
	RatePerMinute int        `json:"rate_limit_per_minute"`
}

// createKey serves the shared POST /api/v1/apikeys: Nekzus scope names give a
// nekzus_ key, netkeep's own (NetKey's "psks:read", ...) an nk_ key; the
// undocumented "format" asks for another (GateKey's "gk", which has no path
// of its own).
func (h *Handlers) createKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name          string        `json:"name"`
		Scopes        []string      `json:"scopes"`
		ExpiresAt     *time.Time    `json:"expiresAt"`
		Format        apikey.Format `json:"format"`
		RatePerHour   int           `json:"rate_limit_per_hour"`
		RatePerMinute int           `json:"rate_limit_per_minute"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	k, secret, err := h.Keys.Create(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), apikey.NewKey{
		Name: in.Name, Scopes: in.Scopes, Format: in.Format, ExpiresAt: in.ExpiresAt,
		RatePerHour: in.RatePerHour, RatePerMinute: in.RatePerMinute,
	})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, createdKey{
		ID: k.ID, Name: k.Name, Prefix: k.Prefix, Key: secret, Scopes: k.Scopes, ExpiresAt: k.ExpiresAt,
		CreatedAt: k.CreatedAt, CreatedBy: k.CreatedByName, RatePerHour: k.RatePerHour, RatePerMinute: k.RatePerMinute,
	})
}
