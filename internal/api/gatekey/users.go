package gatekey

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/fault"
)

const maxPerPage = 100

// adminUsers lists the users the caller may see, a page at a time (page from
// 1, per_page default 20, at most 100). The admin API is for administrators:
// a USER is refused even though it may read its group's users elsewhere.
func (h *Handlers) adminUsers(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	if !p.IsSuper() && !isAdmin(p.Role) {
		api.Error(w, r, fault.New(fault.Forbidden, "administrator role required"))
		return
	}
	q := r.URL.Query()
	page, err := api.IntParam(q.Get("page"), 1, 1, 1<<31-1)
	if err != nil {
		api.Error(w, r, fault.New(fault.Invalid, "page must be a positive integer").WithDetails(map[string]any{"field": "page"}))
		return
	}
	perPage, err := api.IntParam(q.Get("per_page"), 20, 1, 1<<31-1)
	if err != nil {
		api.Error(w, r, fault.New(fault.Invalid, "per_page must be a positive integer").WithDetails(map[string]any{"field": "per_page"}))
		return
	}
	perPage = min(perPage, maxPerPage)
	users, err := h.Identity.ListUsers(r.Context(), p)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	lo := min((page-1)*perPage, len(users))
	hi := min(lo+perPage, len(users))
	out := make([]map[string]any, 0, hi-lo)
	for _, u := range users[lo:hi] {
		out = append(out, userJSON(u))
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"data": out,
		"meta": map[string]any{"total": len(users), "page": page, "per_page": perPage},
	})
}
