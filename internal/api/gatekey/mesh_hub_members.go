package gatekey

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
)

// The web UI's hub access (Manage Access): a hub's users and groups, who
// may connect to it (gateway.Member). The UI reads {"users": [ids]} and
// {"groups": [names]}; users are netkeep's numeric ids, as strings.

// HubMemberships is what the hub access handlers need of the gateway
// domain; *gateway.Service implements it.
type HubMemberships interface {
	HubMembers(ctx context.Context, p *authz.Principal, hubID string) ([]gateway.Member, error)
	AddHubMember(ctx context.Context, p *authz.Principal, src audit.Source, hubID string, m gateway.Member) error
	RemoveHubMember(ctx context.Context, p *authz.Principal, src audit.Source, hubID string, m gateway.Member) error
}

// hubMembersOf answers the hub's members of kind: ids (users) or names
// (groups) under key, with the seed's data beside them.
func (h *Handlers) hubMembersOf(kind gateway.MemberKind, key string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ms, err := h.Gateways.HubMembers(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("id"))
		if err != nil {
			api.Error(w, r, err)
			return
		}
		out := []string{}
		for _, m := range ms {
			switch {
			case m.Kind != kind:
			case kind == gateway.MemberUser:
				out = append(out, strconv.FormatInt(m.ID, 10))
			default:
				out = append(out, m.Name)
			}
		}
		api.WriteJSON(w, http.StatusOK, map[string]any{key: out, "data": out})
	}
}

// hubMemberBody is the UI's assignment: userId (a string, or a number) or
// groupName; user_id and group_name in netkeep's spelling.
type hubMemberBody struct {
	UserID     json.RawMessage `json:"userId"`
	UserIDs    json.RawMessage `json:"user_id"`
	GroupName  string          `json:"groupName"`
	GroupNames string          `json:"group_name"`
}

// memberUserID reads a user id given as a JSON string or number.
func memberUserID(raw json.RawMessage) (int64, error) {
	raw = bytes.TrimSpace(raw)
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.New(fault.Invalid, "userId must be a user's id").WithDetails(map[string]any{"field": "userId"})
	}
	return id, nil
}

func (h *Handlers) assignHubUser(w http.ResponseWriter, r *http.Request) {
	var in hubMemberBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	raw := in.UserID
	if len(raw) == 0 {
		raw = in.UserIDs
	}
	id, err := memberUserID(raw)
	if err == nil {
		err = h.Gateways.AddHubMember(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"),
			gateway.Member{Kind: gateway.MemberUser, ID: id})
	}
	memberDone(w, r, err, "user assigned to hub")
}

func (h *Handlers) removeHubUser(w http.ResponseWriter, r *http.Request) {
	id, err := memberUserID(json.RawMessage(strconv.Quote(r.PathValue("user_id"))))
	if err != nil {
		err = fault.New(fault.NotFound, "no such hub member")
	} else {
		err = h.Gateways.RemoveHubMember(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"),
			gateway.Member{Kind: gateway.MemberUser, ID: id})
	}
	memberDone(w, r, err, "user removed from hub")
}

func (h *Handlers) assignHubGroup(w http.ResponseWriter, r *http.Request) {
	var in hubMemberBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	name := in.GroupName
	if name == "" {
		name = in.GroupNames
	}
	var err error
	if name == "" {
		err = fault.New(fault.Invalid, "groupName is required").WithDetails(map[string]any{"field": "groupName"})
	} else {
		err = h.Gateways.AddHubMember(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"),
			gateway.Member{Kind: gateway.MemberGroup, Name: name})
	}
	memberDone(w, r, err, "group assigned to hub")
}

func (h *Handlers) removeHubGroup(w http.ResponseWriter, r *http.Request) {
	err := h.Gateways.RemoveHubMember(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"),
		gateway.Member{Kind: gateway.MemberGroup, Name: r.PathValue("group_name")})
	memberDone(w, r, err, "group removed from hub")
}

// memberDone answers a membership change: err, or {"message": message}.
func memberDone(w http.ResponseWriter, r *http.Request, err error, message string) {
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]string{"message": message})
}
