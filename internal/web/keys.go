package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/apikey"
	"netkeep/internal/authz"
)

// API keys: the caller's (a group administrator sees the group's), made
// with netkeep's scope names; a new key's secret is shown once.

type keysView struct {
	Keys   []*apikey.Key
	Scopes []string
	// Secret is the key just created: on this answer only.
	Secret  string
	Created *apikey.Key
}

// keyScopes are the scopes offered on the form, netkeep's own names.
var keyScopes = []string{
	"psks:read", "psks:write", "endpoints:read", "endpoints:write", "users:read", "users:write",
	"networks:read", "networks:write", "nodes:read", "nodes:write", "gateways:read", "gateways:write",
	"pki:read", "radius:read", "radius:write", "audit:read",
}

func (h *Handlers) keysView(r *http.Request) (*keysView, error) {
	keys, err := h.APIKeys.List(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		return nil, err
	}
	return &keysView{Keys: keys, Scopes: keyScopes}, nil
}

func (h *Handlers) keysPage(w http.ResponseWriter, r *http.Request) {
	v, err := h.keysView(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "keys", &view{Title: "API keys", Section: "keys", Flash: flash(r), Data: v})
}

func (h *Handlers) createKey(w http.ResponseWriter, r *http.Request) {
	in := apikey.NewKey{Name: strings.TrimSpace(r.PostFormValue("name")), Scopes: r.PostForm["scope"], Vocabulary: authz.VocabNetKeep}
	if days, err := strconv.Atoi(r.PostFormValue("days")); err == nil && days > 0 {
		exp := time.Now().AddDate(0, 0, days).UTC().Truncate(time.Second)
		in.ExpiresAt = &exp
	}
	k, secret, err := h.APIKeys.Create(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := h.keysView(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Secret, v.Created = secret, k
	h.render(w, r, http.StatusOK, "keys", &view{Title: "API keys", Section: "keys", Data: v})
}

func (h *Handlers) revokeKey(w http.ResponseWriter, r *http.Request) {
	if _, err := h.APIKeys.Revoke(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id")); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/ui/keys", "Key revoked.")
}
