package gatekey

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"netkeep/internal/api"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
	"netkeep/internal/identity"
)

// ruleBody is an access rule as a request gives it. ports is a list like
// "80,443" or "8000-8100" ("" or absent: every port). gatekey-admin's
// spelling is accepted too: groups by name, allowed_cidrs (a netkeep rule
// has one destination, so at most one), is_active; priority is ignored
// (netkeep's rules only allow, so their order does not matter).
type ruleBody struct {
	Name         *string   `json:"name"`
	Description  *string   `json:"description"`
	NetworkID    *string   `json:"network_id"`
	Destination  *string   `json:"destination"`
	Protocol     *string   `json:"protocol"`
	Ports        *string   `json:"ports"`
	UserIDs      *[]int64  `json:"user_ids"`
	GroupIDs     *[]int64  `json:"group_ids"`
	Enabled      *bool     `json:"enabled"`
	Groups       *[]string `json:"groups"`
	AllowedCIDRs *[]string `json:"allowed_cidrs"`
	IsActive     *bool     `json:"is_active"`
}

var errManyCIDRs = fault.New(fault.Invalid, "a netkeep access rule has one destination: give allowed_cidrs one CIDR, or create one rule per CIDR").
	WithDetails(map[string]any{"field": "allowed_cidrs"})

// input resolves the body; group names are looked up among the groups p
// sees. Errors: invalid (several CIDRs, an unknown group name).
func (h *Handlers) ruleInput(r *http.Request, b ruleBody) (gateway.RuleInput, error) {
	in := gateway.RuleInput{Name: b.Name, Description: b.Description, NetworkID: b.NetworkID, Destination: b.Destination,
		Protocol: b.Protocol, Ports: b.Ports, UserIDs: b.UserIDs, GroupIDs: b.GroupIDs, Enabled: b.Enabled}
	if in.Enabled == nil {
		in.Enabled = b.IsActive
	}
	if in.Destination == nil && b.AllowedCIDRs != nil {
		switch cidrs := *b.AllowedCIDRs; len(cidrs) {
		case 0:
		case 1:
			in.Destination = &cidrs[0]
		default:
			return in, errManyCIDRs
		}
	}
	if in.GroupIDs == nil && b.Groups != nil {
		ids, err := h.groupIDs(r, *b.Groups)
		if err != nil {
			return in, err
		}
		in.GroupIDs = &ids
	}
	return in, nil
}

// groupIDs resolves group names (case-insensitive) among the groups the
// caller sees.
func (h *Handlers) groupIDs(r *http.Request, names []string) ([]int64, error) {
	groups, err := h.Identity.ListGroups(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(names))
	for _, n := range names {
		i := slices.IndexFunc(groups, func(g identity.Group) bool { return strings.EqualFold(g.Name, n) })
		if i < 0 {
			return nil, fault.New(fault.Invalid, "no group named "+strconv.Quote(n)).WithDetails(map[string]any{"field": "groups"})
		}
		ids = append(ids, groups[i].ID)
	}
	return ids, nil
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
	ri, err := h.ruleInput(r, in)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	rule, err := h.Gateways.CreateRule(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), ri)
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
	ri, err := h.ruleInput(r, in)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	rule, err := h.Gateways.UpdateRule(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"), ri)
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
