package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// Administration: users (roles, active), groups, the audit log and the
// server's settings. What a caller may see and change is the identity
// domain's decision, as in the API.

var errUserNotFound = fault.New(fault.NotFound, "user not found").WithReason(identity.ReasonUserNotFound)

type usersView struct {
	Users  []*identity.User
	Groups []identity.Group
	Roles  []identity.Role
}

func (h *Handlers) usersPage(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	users, err := h.Identity.ListUsersAsAdmin(r.Context(), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := usersView{Users: users, Roles: []identity.Role{identity.RoleUser, identity.GroupAdmin}}
	if groups, err := h.Identity.ListGroups(r.Context(), p); err == nil {
		v.Groups = groups
	}
	if p.IsSuper() {
		v.Roles = append(v.Roles, identity.SuperAdmin)
	}
	h.render(w, r, http.StatusOK, "users", &view{Title: "Users", Section: "admin", Flash: flash(r), Data: v})
}

func (h *Handlers) createUser(w http.ResponseWriter, r *http.Request) {
	in := identity.NewUser{Username: strings.TrimSpace(r.PostFormValue("username")), Email: strings.TrimSpace(r.PostFormValue("email")),
		Password: r.PostFormValue("password"), FullName: strings.TrimSpace(r.PostFormValue("full_name")),
		Role: identity.Role(r.PostFormValue("role"))}
	in.GroupID, _ = strconv.ParseInt(r.PostFormValue("group"), 10, 64)
	if _, err := h.Identity.CreateUser(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/ui/admin/users", "User created.")
}

// updateUser changes a user's role or active state, whichever the form
// sends.
func (h *Handlers) updateUser(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.fail(w, r, errUserNotFound)
		return
	}
	var patch identity.UserPatch
	if v := r.PostFormValue("role"); v != "" {
		role := identity.Role(v)
		patch.Role = &role
	}
	if v := r.PostFormValue("active"); v != "" {
		on := v == "true"
		patch.IsActive = &on
	}
	if _, err := h.Identity.UpdateUser(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id, patch); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/ui/admin/users", "User updated.")
}

func (h *Handlers) deleteUser(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		err = h.Identity.DeleteUser(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id)
	} else {
		err = errUserNotFound
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/ui/admin/users", "User deleted.")
}

func (h *Handlers) groupsPage(w http.ResponseWriter, r *http.Request) {
	groups, err := h.Identity.ListGroups(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "groups", &view{Title: "Groups", Section: "admin", Flash: flash(r), Data: groups})
}

func (h *Handlers) createGroup(w http.ResponseWriter, r *http.Request) {
	if _, err := h.Identity.CreateGroup(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), strings.TrimSpace(r.PostFormValue("name"))); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/ui/admin/groups", "Group created.")
}

// auditPageSize pages the audit log.
const auditPageSize = 100

type auditView struct {
	Entries       []audit.Entry
	Action, Actor string
	Offset        int
	Prev, Next    string
}

func (h *Handlers) auditPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := auditView{Action: strings.TrimSpace(q.Get("action")), Actor: strings.TrimSpace(q.Get("actor"))}
	v.Offset, _ = strconv.Atoi(q.Get("offset"))
	v.Offset = max(v.Offset, 0)
	entries, err := h.Identity.ListAudit(r.Context(), api.PrincipalFrom(r.Context()),
		audit.Query{Action: v.Action, Actor: v.Actor, Limit: auditPageSize + 1, Offset: v.Offset})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	link := func(off int) string {
		return "/ui/admin/audit?" + url.Values{"action": {v.Action}, "actor": {v.Actor}, "offset": {strconv.Itoa(off)}}.Encode()
	}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		v.Next = link(v.Offset + auditPageSize)
	}
	if v.Offset > 0 {
		v.Prev = link(max(0, v.Offset-auditPageSize))
	}
	v.Entries = entries
	h.render(w, r, http.StatusOK, "audit", &view{Title: "Audit log", Section: "admin", Data: v})
}

// settingsPage shows the server's settings (nothing secret). Only
// administrators see it: the audit log's rule (audit:read) decides, so
// that the page asks the domain like every other.
func (h *Handlers) settingsPage(w http.ResponseWriter, r *http.Request) {
	if _, err := h.Identity.ListAudit(r.Context(), api.PrincipalFrom(r.Context()), audit.Query{Limit: 1}); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "settings", &view{Title: "Settings", Section: "admin", Data: h.Settings})
}
