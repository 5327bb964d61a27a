package nekzus

import (
	"net/http"
	"time"

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
	logs := make([]auditLogJSON, 0, len(entries))
	for _, e := range entries {
		logs = append(logs, auditLogJSON{ID: e.ID, Action: e.Action, Actor: e.Actor, Target: e.Target,
			Details: e.Details, IP: e.IP, Timestamp: e.Time})
	}
	api.WriteJSON(w, http.StatusOK, auditLogsJSON{Logs: logs, Limit: limit, Offset: offset, Count: len(logs)})
}

// auditLogJSON is one audit entry; details is the entry's JSON as text.
type auditLogJSON struct {
	ID        int64     `json:"id"`
	Action    string    `json:"action"`
	Actor     string    `json:"actor"`
	Target    string    `json:"target"`
	Details   string    `json:"details"`
	IP        string    `json:"ip"`
	Timestamp time.Time `json:"timestamp"`
}

type auditLogsJSON struct {
	Logs   []auditLogJSON `json:"logs"`
	Limit  int            `json:"limit"`
	Offset int            `json:"offset"`
	Count  int            `json:"count"`
}
