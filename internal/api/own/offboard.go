package own

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/offboard"
)

// Offboarder is what the offboarding routes need of the offboard domain.
type Offboarder interface {
	Access(ctx context.Context, p *authz.Principal, id int64) (*offboard.Report, error)
	Offboard(ctx context.Context, p *authz.Principal, src audit.Source, id int64, o offboard.Options) (*offboard.Report, error)
	Device(ctx context.Context, p *authz.Principal, src audit.Source, id string, dryRun bool) (*offboard.Report, error)
	Node(ctx context.Context, p *authz.Principal, src audit.Source, netid, mac string, dryRun bool) (*offboard.Report, error)
}

// offboardBody is the optional body of the offboarding routes.
type offboardBody struct {
	DryRun     bool `json:"dry_run"`
	DeleteUser bool `json:"delete_user"`
}

// accessItemJSON is one item a person holds and where it stands.
type accessItemJSON struct {
	Facet    string `json:"facet"`
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	State    string `json:"state"`
	Detail   string `json:"detail,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
	EndedAt  string `json:"ended_at,omitempty"`
}

// accessUserJSON names the person of a report.
type accessUserJSON struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	GroupID  int64  `json:"group_id"`
	IsActive bool   `json:"is_active"`
}

// accessReportJSON answers the access and offboarding routes.
type accessReportJSON struct {
	User       *accessUserJSON  `json:"user,omitempty"`
	DryRun     bool             `json:"dry_run"`
	Enforced   bool             `json:"enforced"`
	Items      []accessItemJSON `json:"items"`
	Counts     map[string]int   `json:"counts"`
	Failures   int              `json:"failures"`
	StartedAt  string           `json:"started_at"`
	FinishedAt string           `json:"finished_at"`
	DurationMS int64            `json:"duration_ms"`
}

func accessReport(r *offboard.Report) accessReportJSON {
	out := accessReportJSON{DryRun: r.DryRun, Enforced: r.Enforced, Items: make([]accessItemJSON, 0, len(r.Items)),
		Counts: map[string]int{}, Failures: r.Failures(), StartedAt: r.Started.Format(time.RFC3339Nano),
		FinishedAt: r.Finished.Format(time.RFC3339Nano), DurationMS: r.Finished.Sub(r.Started).Milliseconds()}
	if u := r.User; u != nil {
		out.User = &accessUserJSON{ID: u.ID, Username: u.Username, GroupID: u.GroupID, IsActive: u.IsActive}
	}
	for _, it := range r.Items {
		j := accessItemJSON{Facet: string(it.Facet), ID: it.ID, Name: it.Name, State: string(it.State),
			Detail: it.Detail, Attempts: it.Attempts}
		if !it.EndedAt.IsZero() {
			j.EndedAt = it.EndedAt.Format(time.RFC3339Nano)
		}
		out.Items = append(out.Items, j)
		out.Counts[j.Facet]++
	}
	return out
}

// userID parses the {id} path value; a malformed id names no user.
func userID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, fault.New(fault.NotFound, "user not found")
	}
	return id, nil
}

// offboardOptions reads the optional JSON body; no body is the defaults.
func offboardOptions(r *http.Request) (offboardBody, error) {
	var in offboardBody
	if r.ContentLength == 0 {
		return in, nil
	}
	return in, api.Decode(r, &in)
}

func (h *Handlers) userAccess(w http.ResponseWriter, r *http.Request) {
	id, err := userID(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	rep, err := h.Offboard.Access(r.Context(), api.PrincipalFrom(r.Context()), id)
	api.Respond(w, r, http.StatusOK, rep, err, accessReport)
}

func (h *Handlers) offboardUser(w http.ResponseWriter, r *http.Request) {
	id, err := userID(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	in, err := offboardOptions(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	rep, err := h.Offboard.Offboard(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id,
		offboard.Options{DryRun: in.DryRun, DeleteUser: in.DeleteUser})
	api.Respond(w, r, http.StatusOK, rep, err, accessReport)
}

func (h *Handlers) offboardDevice(w http.ResponseWriter, r *http.Request) {
	in, err := offboardOptions(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	rep, err := h.Offboard.Device(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"), in.DryRun)
	api.Respond(w, r, http.StatusOK, rep, err, accessReport)
}

func (h *Handlers) offboardNode(w http.ResponseWriter, r *http.Request) {
	in, err := offboardOptions(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	rep, err := h.Offboard.Node(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r),
		r.PathValue("network"), r.PathValue("mac"), in.DryRun)
	api.Respond(w, r, http.StatusOK, rep, err, accessReport)
}
