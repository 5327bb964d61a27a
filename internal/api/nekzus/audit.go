package nekzus

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/fault"
)

// auditLogs lists audit entries of the caller's group, newest first:
// filters action and actor, limit (default 100, max 1000) and offset.
func (h *Handlers) auditLogs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := api.IntParam(q.Get("limit"), 100, 1, 1000)
	if err != nil {
		api.Error(w, r, fault.New(fault.Invalid, "limit must be an integer from 1 to 1000"))
		return
	}
	offset, err := api.IntParam(q.Get("offset"), 0, 0, 1<<31-1)
	if err != nil {
		api.Error(w, r, fault.New(fault.Invalid, "offset must be a non-negative integer"))
		return
	}
	entries, err := h.Identity.ListAudit(r.Context(), api.PrincipalFrom(r.Context()),
		audit.Query{Action: q.Get("action"), Actor: q.Get("actor"), Limit: limit, Offset: offset})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	logs := make([]map[string]any, 0, len(entries))
	for _, e := range entries {
		logs = append(logs, map[string]any{
			"id": e.ID, "action": e.Action, "actor": e.Actor, "target": e.Target,
			"details": e.Details, "ip": e.IP, "timestamp": e.Time,
		})
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"logs": logs, "limit": limit, "offset": offset, "count": len(logs)})
}
