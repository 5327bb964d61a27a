package own

import (
	"net/http"
	"strconv"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/fault"
	"netkeep/internal/identity"
)

// groupJSON is a group: all there is to one.
type groupJSON struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
}

type groupListJSON struct {
	Groups []groupJSON `json:"groups"`
	Total  int         `json:"total"`
}

func group(g *identity.Group) groupJSON {
	return groupJSON{ID: g.ID, Name: g.Name, CreatedAt: g.CreatedAt.UTC().Format(time.RFC3339)}
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
	out := make([]groupJSON, 0, len(groups))
	for i := range groups {
		out = append(out, group(&groups[i]))
	}
	api.WriteJSON(w, http.StatusOK, groupListJSON{Groups: out, Total: len(out)})
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
	api.WriteJSON(w, http.StatusCreated, group(g))
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
	api.WriteJSON(w, http.StatusOK, group(g))
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
	api.WriteJSON(w, http.StatusOK, group(g))
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
