package nekzus

import (
	"context"
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/backup"
)

// Backups is what the backup handlers need of the backup domain.
type Backups interface {
	Create(ctx context.Context, p *authz.Principal, src audit.Source, description string) (*backup.Backup, error)
	List(ctx context.Context, p *authz.Principal) ([]*backup.Backup, error)
	Get(ctx context.Context, p *authz.Principal, id string) (*backup.Backup, error)
	Delete(ctx context.Context, p *authz.Principal, src audit.Source, id string) error
	Restore(ctx context.Context, p *authz.Principal, src audit.Source, id string, facets []backup.Facet) error
	Status(ctx context.Context, p *authz.Principal) (*backup.SchedulerStatus, error)
	Trigger(ctx context.Context, p *authz.Principal, src audit.Source, description string) (*backup.Backup, error)
}

// backupJSON is a backup as GET /api/v1/backups/{id} shows it.
type backupJSON struct {
	ID            string           `json:"id"`
	Description   string           `json:"description"`
	Timestamp     time.Time        `json:"timestamp"`
	Version       string           `json:"version"`
	SchemaVersion int64            `json:"schema_version"`
	Size          int64            `json:"size"`
	SHA256        string           `json:"sha256"`
	Tables        map[string]int64 `json:"tables"`
	Trigger       backup.Trigger   `json:"trigger"`
}

func viewBackup(b *backup.Backup) backupJSON {
	return backupJSON{ID: b.ID, Description: b.Description, Timestamp: b.Timestamp, Version: b.Version,
		SchemaVersion: b.SchemaVersion, Size: b.Size, SHA256: b.SHA256, Tables: b.Tables, Trigger: b.Trigger}
}

// backupListJSON is GET /api/v1/backups.
type backupListJSON struct {
	Backups []backupJSON `json:"backups"`
	Count   int          `json:"count"`
}

// restoreOptions is POST /api/v1/backups/{id}/restore's body: Nekzus's
// flags (camelCase as documented, snake_case as Nekzus's own server reads
// them) and netkeep's other facets.
type restoreOptions struct {
	RestoreApps         bool `json:"restoreApps"`
	RestoreRoutes       bool `json:"restoreRoutes"`
	RestoreDevices      bool `json:"restoreDevices"`
	RestoreCertificates bool `json:"restoreCertificates"`
	RestoreAPIKeys      bool `json:"restoreApiKeys"`
	RestoreUsers        bool `json:"restoreUsers"`
	RestoreWiFi         bool `json:"restoreWifi"`
	RestoreMesh         bool `json:"restoreMesh"`
	RestoreVPN          bool `json:"restoreVpn"`
	RestoreAll          bool `json:"restoreAll"`
}

// restoreRequest accepts both spellings of every flag.
type restoreRequest struct {
	restoreOptions
	Apps         bool `json:"restore_apps"`
	Routes       bool `json:"restore_routes"`
	Devices      bool `json:"restore_devices"`
	Certificates bool `json:"restore_certificates"`
	APIKeys      bool `json:"restore_api_keys"`
	Users        bool `json:"restore_users"`
	WiFi         bool `json:"restore_wifi"`
	Mesh         bool `json:"restore_mesh"`
	VPN          bool `json:"restore_vpn"`
	All          bool `json:"restore_all"`
}

// options merges the two spellings.
func (r restoreRequest) options() restoreOptions {
	o := r.restoreOptions
	o.RestoreApps = o.RestoreApps || r.Apps
	o.RestoreRoutes = o.RestoreRoutes || r.Routes
	o.RestoreDevices = o.RestoreDevices || r.Devices
	o.RestoreCertificates = o.RestoreCertificates || r.Certificates
	o.RestoreAPIKeys = o.RestoreAPIKeys || r.APIKeys
	o.RestoreUsers = o.RestoreUsers || r.Users
	o.RestoreWiFi = o.RestoreWiFi || r.WiFi
	o.RestoreMesh = o.RestoreMesh || r.Mesh
	o.RestoreVPN = o.RestoreVPN || r.VPN
	o.RestoreAll = o.RestoreAll || r.All
	return o
}

// facets are the facets the options choose.
func (o restoreOptions) facets() []backup.Facet {
	if o.RestoreAll {
		return backup.Facets()
	}
	var out []backup.Facet
	for f, on := range map[backup.Facet]bool{
		backup.FacetApps: o.RestoreApps, backup.FacetRoutes: o.RestoreRoutes, backup.FacetDevices: o.RestoreDevices,
		backup.FacetCertificates: o.RestoreCertificates, backup.FacetAPIKeys: o.RestoreAPIKeys,
		backup.FacetUsers: o.RestoreUsers, backup.FacetWiFi: o.RestoreWiFi, backup.FacetMesh: o.RestoreMesh,
		backup.FacetVPN: o.RestoreVPN,
	} {
		if on {
			out = append(out, f)
		}
	}
	return out
}

// restoredJSON is POST /api/v1/backups/{id}/restore's answer.
type restoredJSON struct {
	Message string         `json:"message"`
	Options restoreOptions `json:"options"`
	Facets  []backup.Facet `json:"facets"`
}

// schedulerJSON is GET /api/v1/backups/scheduler/status.
type schedulerJSON struct {
	Enabled bool                `json:"enabled"`
	Status  schedulerStatusJSON `json:"status"`
}

type schedulerStatusJSON struct {
	Running      bool       `json:"running"`
	Interval     string     `json:"interval"`
	Keep         int        `json:"keep"`
	MaxAge       string     `json:"max_age"`
	LastRun      *time.Time `json:"last_run"`
	LastBackupID string     `json:"last_backup_id"`
	LastError    string     `json:"last_error"`
	NextRun      *time.Time `json:"next_run"`
	Runs         int64      `json:"runs"`
	Failures     int64      `json:"failures"`
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// description reads an optional {"description"} body (an empty body is
// no description).
func description(r *http.Request) (string, error) {
	var in struct {
		Description string `json:"description"`
	}
	if r.ContentLength == 0 {
		return "", nil
	}
	err := api.Decode(r, &in)
	return in.Description, err
}

func (h *Handlers) listBackups(w http.ResponseWriter, r *http.Request) {
	bs, err := h.Backups.List(r.Context(), api.PrincipalFrom(r.Context()))
	api.Respond(w, r, http.StatusOK, bs, err, func(bs []*backup.Backup) backupListJSON {
		out := backupListJSON{Backups: make([]backupJSON, 0, len(bs)), Count: len(bs)}
		for _, b := range bs {
			out.Backups = append(out.Backups, viewBackup(b))
		}
		return out
	})
}

func (h *Handlers) createBackup(w http.ResponseWriter, r *http.Request) {
	desc, err := description(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	b, err := h.Backups.Create(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), desc)
	api.Respond(w, r, http.StatusCreated, b, err, viewBackup)
}

func (h *Handlers) getBackup(w http.ResponseWriter, r *http.Request) {
	b, err := h.Backups.Get(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("id"))
	api.Respond(w, r, http.StatusOK, b, err, viewBackup)
}

func (h *Handlers) deleteBackup(w http.ResponseWriter, r *http.Request) {
	api.RespondEmpty(w, r, h.Backups.Delete(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id")))
}

func (h *Handlers) restoreBackup(w http.ResponseWriter, r *http.Request) {
	var in restoreRequest
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	opts := in.options()
	facets := opts.facets()
	if err := h.Backups.Restore(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"), facets); err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, restoredJSON{Message: "Backup restored successfully", Options: opts, Facets: facets})
}

func (h *Handlers) backupSchedulerStatus(w http.ResponseWriter, r *http.Request) {
	st, err := h.Backups.Status(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, schedulerJSON{Enabled: st.Enabled, Status: schedulerStatusJSON{
		Running: st.Running, Interval: st.Interval.String(), Keep: st.Keep, MaxAge: st.MaxAge.String(),
		LastRun: timeOrNil(st.LastRun), LastBackupID: st.LastBackupID, LastError: st.LastError,
		NextRun: timeOrNil(st.NextRun), Runs: st.Runs, Failures: st.Failures,
	}})
}

func (h *Handlers) triggerBackup(w http.ResponseWriter, r *http.Request) {
	desc, err := description(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	b, err := h.Backups.Trigger(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), desc)
	api.Respond(w, r, http.StatusCreated, b, err, viewBackup)
}
