package gatekey

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/gateway"
)

// ruleBody is an access rule as a request gives it. ports is a list like
// "80,443" or "8000-8100" ("" or absent: every port).
type ruleBody struct {
	Name        *string  `json:"name"`
	Description *string  `json:"description"`
	NetworkID   *string  `json:"network_id"`
	Destination *string  `json:"destination"`
	Protocol    *string  `json:"protocol"`
	Ports       *string  `json:"ports"`
	UserIDs     *[]int64 `json:"user_ids"`
	GroupIDs    *[]int64 `json:"group_ids"`
	Enabled     *bool    `json:"enabled"`
}

func (b ruleBody) input() gateway.RuleInput {
	return gateway.RuleInput{Name: b.Name, Description: b.Description, NetworkID: b.NetworkID, Destination: b.Destination,
		Protocol: b.Protocol, Ports: b.Ports, UserIDs: b.UserIDs, GroupIDs: b.GroupIDs, Enabled: b.Enabled}
}

func (h *Handlers) rules(w http.ResponseWriter, r *http.Request) {
	rules, err := h.Gateways.Rules(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writePage(w, r, "access_rules", rules, ruleOf)
}

func (h *Handlers) rule(w http.ResponseWriter, r *http.Request) {
	rule, err := h.Gateways.Rule(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, ruleOf(rule))
}

func (h *Handlers) createRule(w http.ResponseWriter, r *http.Request) {
	var in ruleBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	rule, err := h.Gateways.CreateRule(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in.input())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusCreated, ruleOf(rule))
}

func (h *Handlers) updateRule(w http.ResponseWriter, r *http.Request) {
	var in ruleBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	rule, err := h.Gateways.UpdateRule(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"), in.input())
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, ruleOf(rule))
}

func (h *Handlers) deleteRule(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.Gateways.DeleteRule(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id); err != nil {
		api.Error(w, r, err)
		return
	}
	deleted(w, r, id)
}
