package gatekey

import (
	"context"
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/offboard"
)

// The last of gatekey-admin's commands: "gateway reprovision", "user get",
// "user revoke-configs" and "remote-session agents". Who may do what is
// the domain's (gateway.Reprovision, identity.GetUserAsAdmin,
// offboard.VPNConfigs, gateway.AdminGateways): administrators of the
// object's group, a super administrator anywhere; another group's objects
// are not found.

// UserConfigs revokes a user's VPN configurations; *offboard.Service
// implements it.
type UserConfigs interface {
	VPNConfigs(ctx context.Context, p *authz.Principal, src audit.Source, id int64, reason string) (*offboard.Report, error)
}

// reprovisionJSON answers a reprovisioning request: GateKey's message and
// config_version, and the gateway, which gatekey-admin prints the name of.
type reprovisionJSON struct {
	Message       string           `json:"message"`
	ConfigVersion int64            `json:"config_version"`
	Gateway       adminGatewayJSON `json:"gateway"`
}

// reprovisionGateway asks the gateway to fetch a new certificate at its
// next heartbeat (gateway.Reprovision says what changes when).
func (h *Handlers) reprovisionGateway(w http.ResponseWriter, r *http.Request) {
	g, err := h.Gateways.Reprovision(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, reprovisionJSON{
		Message:       "reprovision triggered - gateway will reprovision on next heartbeat",
		ConfigVersion: g.ConfigVersion, Gateway: adminGatewayOf(g, h.now()),
	})
}

// adminUser is one user, in the list's shapes (users.go).
func (h *Handlers) adminUser(w http.ResponseWriter, r *http.Request) {
	id, err := userID(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	u, err := h.Identity.GetUserAsAdmin(r.Context(), api.PrincipalFrom(r.Context()), id)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if api.GateKeyProgram(r) {
		writeData(w, r, http.StatusOK, programUserOf(u))
		return
	}
	writeData(w, r, http.StatusOK, userJSON(u))
}

// revokedConfigsJSON answers revoking a user's configurations as GateKey's
// server does, with the ids revoked.
type revokedConfigsJSON struct {
	Success      bool     `json:"success"`
	Message      string   `json:"message"`
	RevokedCount int      `json:"revokedCount"`
	ConfigIDs    []string `json:"config_ids"`
}

// revokeUserConfigs revokes every live VPN configuration of the user; the
// optional body's reason is an RFC 5280 name (as for one configuration).
func (h *Handlers) revokeUserConfigs(w http.ResponseWriter, r *http.Request) {
	reason, err := revocationReason(r)
	var id int64
	if err == nil {
		id, err = userID(r)
	}
	if err != nil {
		api.Error(w, r, err)
		return
	}
	rep, err := h.UserConfigs.VPNConfigs(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id, reason)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	ids := make([]string, 0, len(rep.Items))
	for _, it := range rep.Items {
		ids = append(ids, it.ID)
	}
	writeData(w, r, http.StatusOK, revokedConfigsJSON{Success: true, Message: "User configs revoked successfully",
		RevokedCount: len(ids), ConfigIDs: ids})
}
