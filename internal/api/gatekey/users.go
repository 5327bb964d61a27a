package gatekey

import (
	"net/http"

	"netkeep/internal/api"
)

const maxPerPage = 100

// adminUsers lists the users the caller may see, a page at a time (page from
// 1, per_page default 20, at most 100). The admin API is for administrators:
// a USER is refused even though it may read its group's users elsewhere.
func (h *Handlers) adminUsers(w http.ResponseWriter, r *http.Request) {
	users, err := h.Identity.ListUsersAsAdmin(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writePage(w, r, "users", users, userJSON)
}
