package own

import (
	"net/http"
	"strconv"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

func groupJSON(g *identity.Group) map[string]any {
	return map[string]any{"id": g.ID, "name": g.Name, "created_at": g.CreatedAt.UTC().Format(time.RFC3339)}
}

// groupID parses the {id} path value; a malformed id names no group.
func groupID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, fault.New(fault.NotFound, "group not found")
	}
	return id, nil
}

type groupBody struct {
	Name string `json:"name"`
}

func (h *Handlers) listGroups(w http.ResponseWriter, r *http.Request) {
	groups, err := h.Identity.ListGroups(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(groups))
	for i := range groups {
		out = append(out, groupJSON(&groups[i]))
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"groups": out, "total": len(out)})
}

func (h *Handlers) createGroup(w http.ResponseWriter, r *http.Request) {
	var in groupBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	g, err := h.Identity.CreateGroup(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in.Name)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, groupJSON(g))
}

func (h *Handlers) getGroup(w http.ResponseWriter, r *http.Request) {
	id, err := groupID(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	g, err := h.Identity.GetGroup(r.Context(), api.PrincipalFrom(r.Context()), id)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, groupJSON(g))
}

// renameGroup takes {"name"}: a group's name is all there is to change.
func (h *Handlers) renameGroup(w http.ResponseWriter, r *http.Request) {
	id, err := groupID(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	var in groupBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	g, err := h.Identity.RenameGroup(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id, in.Name)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, groupJSON(g))
}

// deleteGroup removes an empty group: 204, or 409 while it still owns users,
// PSKs, mesh networks or other objects.
func (h *Handlers) deleteGroup(w http.ResponseWriter, r *http.Request) {
	id, err := groupID(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if err := h.Identity.DeleteGroup(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id); err != nil {
		api.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
