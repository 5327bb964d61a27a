package gatekey

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/apikey"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// gatekey-admin's write commands beside the seed: disconnecting a live
// connection, a user's API keys, and its audit view. Who may do what is
// the domain's (gateway.CutSession, apikey.CreateFor/ListFor/RevokeFor,
// identity.ListAudit): administrators of the object's group, a super
// administrator anywhere; another group's objects are not found.

// cutJSON answers a disconnection request: the gateway has been asked to
// end the session; the session ends in the record when the gateway
// reports it.
type cutJSON struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

func (h *Handlers) disconnectConnection(w http.ResponseWriter, r *http.Request) {
	s, err := h.Gateways.CutSession(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusAccepted, cutJSON{ID: s.ID, Message: "the gateway was asked to disconnect the client"})
}

// ---- a user's API keys ----

func (h *Handlers) userKeys(w http.ResponseWriter, r *http.Request) {
	id, err := userID(r)
	var keys []*apikey.Key
	if err == nil {
		keys, err = h.Keys.ListFor(r.Context(), api.PrincipalFrom(r.Context()), id)
	}
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writePage(w, r, "api_keys", keys, adminKeyOf)
}

func (h *Handlers) createUserKey(w http.ResponseWriter, r *http.Request) {
	h.createKey(w, r, func(p *authz.Principal, in apikey.NewKey) (*apikey.Key, string, error) {
		id, err := userID(r)
		if err != nil {
			return nil, "", err
		}
		return h.Keys.CreateFor(r.Context(), p, api.Source(r), id, in)
	})
}

// revokedKeysJSON answers revoking a user's keys.
type revokedKeysJSON struct {
	UserID  string `json:"user_id"`
	Revoked int    `json:"revoked"`
}

func (h *Handlers) revokeUserKeys(w http.ResponseWriter, r *http.Request) {
	id, err := userID(r)
	n := 0
	if err == nil {
		n, err = h.Keys.RevokeFor(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id)
	}
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, revokedKeysJSON{UserID: r.PathValue("id"), Revoked: n})
}

// ---- audit ----

// auditJSON is an audit entry as gatekey-admin decodes it: the target
// "kind:id" split into resource and resource_id, the actor "user:N" as
// user_id N, details as an object.
type auditJSON struct {
	ID         string         `json:"id"`
	Action     string         `json:"action"`
	Resource   string         `json:"resource"`
	ResourceID string         `json:"resource_id,omitempty"`
	UserID     string         `json:"user_id,omitempty"`
	Actor      string         `json:"actor"`
	IPAddress  string         `json:"ip_address,omitempty"`
	Details    map[string]any `json:"details,omitempty"`
	CreatedAt  string         `json:"created_at"`
}

func auditOf(e audit.Entry) auditJSON {
	out := auditJSON{ID: strconv.FormatInt(e.ID, 10), Action: e.Action, Resource: e.Target, Actor: e.Actor,
		IPAddress: e.IP, CreatedAt: e.Time.UTC().Format(time.RFC3339Nano)}
	if kind, id, ok := strings.Cut(e.Target, ":"); ok {
		out.Resource, out.ResourceID = kind, id
	}
	if id, ok := strings.CutPrefix(e.Actor, "user:"); ok {
		out.UserID = id
	}
	if json.Unmarshal([]byte(e.Details), &out.Details) != nil || len(out.Details) == 0 {
		out.Details = nil
	}
	return out
}

// adminAudit lists the caller's group's audit entries, newest first:
// limit (default 100, at most 1000) and offset; meta.total counts every
// entry the filters select.
func (h *Handlers) adminAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := api.IntParam(q.Get("limit"), 100, 1, 1000)
	if err != nil {
		api.Error(w, r, fault.New(fault.Invalid, "limit must be an integer from 1 to 1000").WithDetails(map[string]any{"field": "limit"}))
		return
	}
	offset, err := api.IntParam(q.Get("offset"), 0, 0, 1<<31-1)
	if err != nil {
		api.Error(w, r, fault.New(fault.Invalid, "offset must be a non-negative integer").WithDetails(map[string]any{"field": "offset"}))
		return
	}
	entries, total, err := h.Identity.AuditPage(r.Context(), api.PrincipalFrom(r.Context()),
		audit.Query{Action: q.Get("action"), Limit: limit, Offset: offset})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := make([]auditJSON, 0, len(entries))
	for _, e := range entries {
		out = append(out, auditOf(e))
	}
	writeList(w, r, "logs", out, total, 1, limit)
}
