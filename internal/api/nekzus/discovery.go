package nekzus

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/catalog"
)

// listProposals serves GET /api/v1/discovery/proposals: the pending
// proposals of the caller's group (empty when discovery is off).
func (h *AppHandlers) listProposals(w http.ResponseWriter, r *http.Request) {
	props, err := h.Catalog.Proposals(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := make([]catalog.ProposalView, 0, len(props))
	for _, p := range props {
		out = append(out, p.View())
	}
	api.WriteJSON(w, http.StatusOK, out)
}

type approvedJSON struct {
	Status string `json:"status"`
	ID     string `json:"id"`
	App    struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"app"`
	Route struct {
		PathBase string `json:"pathBase"`
		To       string `json:"to"`
	} `json:"route"`
}

// approve serves POST /api/v1/discovery/proposals/{proposalId}/approve
// with an optional {"port"}: the detected port when absent.
func (h *AppHandlers) approve(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Port int `json:"port"`
	}
	if r.ContentLength != 0 {
		if err := api.Decode(r, &in); err != nil {
			api.Error(w, r, err)
			return
		}
	}
	prop, e, err := h.Catalog.Approve(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("proposalId"), in.Port)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := approvedJSON{Status: "approved", ID: prop.ID}
	out.App.ID, out.App.Name = e.App.ID, e.App.Name
	out.Route.PathBase, out.Route.To = e.Route.PathBase(), e.Route.To
	api.WriteJSON(w, http.StatusOK, out)
}

type dismissedJSON struct {
	Status string `json:"status"`
	ID     string `json:"id"`
}

func (h *AppHandlers) dismiss(w http.ResponseWriter, r *http.Request) {
	prop, err := h.Catalog.Dismiss(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("proposalId"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, dismissedJSON{Status: "dismissed", ID: prop.ID})
}

type rediscoverJSON struct {
	Status           string `json:"status"`
	Message          string `json:"message"`
	DismissedCleared int    `json:"dismissedCleared"`
	ActiveCleared    int    `json:"activeCleared"`
}

// rediscover serves POST /api/v1/discovery/rediscover: 503 when discovery
// is disabled (no container engine).
func (h *AppHandlers) rediscover(w http.ResponseWriter, r *http.Request) {
	out, err := h.Catalog.Rediscover(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, rediscoverJSON{Status: "success",
		Message:          "Rediscovery triggered. Discovery workers will scan for new services.",
		DismissedCleared: out.DismissedCleared, ActiveCleared: out.ActiveCleared})
}
