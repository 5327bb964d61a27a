package nekzus

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/toolbox"
)

// Toolbox is what the toolbox and export handlers need of the domain.
type Toolbox interface {
	Templates(p *authz.Principal, category string) ([]*toolbox.Template, error)
	Template(p *authz.Principal, id string) (*toolbox.Template, error)
	Deploy(ctx context.Context, p *authz.Principal, src audit.Source, r toolbox.Request) (*toolbox.Deployment, error)
	Deployments(ctx context.Context, p *authz.Principal, status toolbox.Status) ([]*toolbox.Deployment, error)
	Deployment(ctx context.Context, p *authz.Principal, id string) (*toolbox.Deployment, error)
	Remove(ctx context.Context, p *authz.Principal, src audit.Source, id string, volumes bool) (*toolbox.Deployment, error)
	Export(ctx context.Context, p *authz.Principal, src audit.Source, ids []string, reveal, record bool) (*toolbox.Export, error)
}

// ToolboxHandlers serve the toolbox (/api/v1/toolbox/*) and container
// exports (/api/v1/containers/.../export*).
type ToolboxHandlers struct {
	Toolbox Toolbox
}

// templateJSON is a template as GET /api/v1/toolbox/services lists it.
type templateJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Category    string `json:"category"`
	Icon        string `json:"icon"`
	Difficulty  string `json:"difficulty"`
}

// templateDetailJSON is one template with its variables, ports and
// Compose file.
type templateDetailJSON struct {
	templateJSON
	EnvVars []toolbox.EnvVar `json:"envVars"`
	Ports   []toolbox.Port   `json:"ports"`
	PortVar string           `json:"portVar,omitempty"`
	Compose string           `json:"compose"`
}

func viewTemplate(t *toolbox.Template) templateJSON {
	return templateJSON{ID: t.ID, Name: t.Name, Description: t.Description, Category: t.Category, Icon: t.Icon, Difficulty: t.Difficulty}
}

func viewTemplateDetail(t *toolbox.Template) templateDetailJSON {
	return templateDetailJSON{templateJSON: viewTemplate(t), EnvVars: t.EnvVars, Ports: t.Ports, PortVar: t.PortVar, Compose: string(t.Compose)}
}

type templateListJSON struct {
	Services []templateJSON `json:"services"`
	Count    int            `json:"count"`
}

// deployBody is POST /api/v1/toolbox/deploy's body.
type deployBody struct {
	ServiceID   string            `json:"serviceId"`
	ServiceName string            `json:"serviceName"`
	EnvVars     map[string]string `json:"envVars"`
	CustomPort  int               `json:"customPort"`
	AutoStart   *bool             `json:"autoStart"` // default true
}

// deploymentAcceptedJSON answers a deploy (202) and a removal.
type deploymentAcceptedJSON struct {
	DeploymentID string `json:"deployment_id"`
	Status       string `json:"status"`
	Message      string `json:"message"`
}

// deploymentJSON is a deployment (netkeep's fields: the seed documents none).
type deploymentJSON struct {
	ID          string            `json:"id"`
	ServiceID   string            `json:"serviceId"`
	ServiceName string            `json:"serviceName"`
	Status      toolbox.Status    `json:"status"`
	Error       string            `json:"error,omitempty"`
	EnvVars     map[string]string `json:"envVars"`
	CustomPort  int               `json:"customPort,omitempty"`
	AutoStart   bool              `json:"autoStart"`
	Containers  []string          `json:"containers"`
	CreatedBy   string            `json:"createdBy"`
	CreatedAt   time.Time         `json:"createdAt"`
	UpdatedAt   time.Time         `json:"updatedAt"`
}

func viewDeployment(d *toolbox.Deployment) deploymentJSON {
	env, cs := d.EnvVars, d.Containers
	if env == nil {
		env = map[string]string{}
	}
	if cs == nil {
		cs = []string{}
	}
	return deploymentJSON{ID: d.ID, ServiceID: d.TemplateID, ServiceName: d.Name, Status: d.Status, Error: d.Reason, EnvVars: env,
		CustomPort: d.CustomPort, AutoStart: d.AutoStart, Containers: cs, CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

type deploymentListJSON struct {
	Deployments []deploymentJSON `json:"deployments"`
	Count       int              `json:"count"`
}

func (h *ToolboxHandlers) listTemplates(w http.ResponseWriter, r *http.Request) {
	ts, err := h.Toolbox.Templates(api.PrincipalFrom(r.Context()), r.URL.Query().Get("category"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := templateListJSON{Services: make([]templateJSON, 0, len(ts)), Count: len(ts)}
	for _, t := range ts {
		out.Services = append(out.Services, viewTemplate(t))
	}
	api.WriteJSON(w, http.StatusOK, out)
}

func (h *ToolboxHandlers) getTemplate(w http.ResponseWriter, r *http.Request) {
	t, err := h.Toolbox.Template(api.PrincipalFrom(r.Context()), r.PathValue("id"))
	api.Respond(w, r, http.StatusOK, t, err, viewTemplateDetail)
}

func (h *ToolboxHandlers) deploy(w http.ResponseWriter, r *http.Request) {
	var in deployBody
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	if in.ServiceID == "" {
		api.Error(w, r, fault.New(fault.Invalid, "serviceId is required").WithDetails(map[string]any{"field": "serviceId"}))
		return
	}
	start := in.AutoStart == nil || *in.AutoStart
	d, err := h.Toolbox.Deploy(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), toolbox.Request{ServiceID: in.ServiceID,
		ServiceName: in.ServiceName, EnvVars: in.EnvVars, CustomPort: in.CustomPort, AutoStart: start})
	api.Respond(w, r, http.StatusAccepted, d, err, func(d *toolbox.Deployment) deploymentAcceptedJSON {
		return deploymentAcceptedJSON{DeploymentID: d.ID, Status: string(d.Status), Message: fmt.Sprintf("Deployment '%s' initiated", d.Name)}
	})
}

func (h *ToolboxHandlers) listDeployments(w http.ResponseWriter, r *http.Request) {
	ds, err := h.Toolbox.Deployments(r.Context(), api.PrincipalFrom(r.Context()), toolbox.Status(r.URL.Query().Get("status")))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := deploymentListJSON{Deployments: make([]deploymentJSON, 0, len(ds)), Count: len(ds)}
	for _, d := range ds {
		out.Deployments = append(out.Deployments, viewDeployment(d))
	}
	api.WriteJSON(w, http.StatusOK, out)
}

func (h *ToolboxHandlers) getDeployment(w http.ResponseWriter, r *http.Request) {
	d, err := h.Toolbox.Deployment(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("id"))
	api.Respond(w, r, http.StatusOK, d, err, viewDeployment)
}

func (h *ToolboxHandlers) deleteDeployment(w http.ResponseWriter, r *http.Request) {
	volumes, err := boolParam(r, "removeVolumes")
	if err != nil {
		api.Error(w, r, err)
		return
	}
	d, err := h.Toolbox.Remove(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("id"), volumes)
	api.Respond(w, r, http.StatusOK, d, err, func(d *toolbox.Deployment) deploymentAcceptedJSON {
		return deploymentAcceptedJSON{DeploymentID: d.ID, Status: "removed", Message: fmt.Sprintf("Deployment '%s' removed", d.Name)}
	})
}

// boolParam parses an optional true/false query parameter (default false).
func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fault.New(fault.Invalid, name+" must be true or false").WithDetails(map[string]any{"field": name})
	}
	return b, nil
}

// exportJSON is an export preview.
type exportJSON struct {
	ContainerIDs  []string `json:"containerIds"`
	ProjectName   string   `json:"projectName"`
	Format        string   `json:"format"`
	Compose       string   `json:"compose"`
	MaskedSecrets []string `json:"maskedSecrets"`
}

// exportBody is the body of the export calls; every field is optional for
// one container.
type exportBody struct {
	ContainerIDs   []string `json:"containerIds"`
	IncludeSecrets bool     `json:"includeSecrets"`
}

// export answers a preview (JSON) or the Compose file itself, for the
// path's container or the body's containerIds (batch).
func (h *ToolboxHandlers) export(batch, preview bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in exportBody
		if r.ContentLength != 0 && r.Method == http.MethodPost {
			if err := api.Decode(r, &in); err != nil {
				api.Error(w, r, err)
				return
			}
		}
		if q, err := boolParam(r, "includeSecrets"); err != nil {
			api.Error(w, r, err)
			return
		} else if q {
			in.IncludeSecrets = true
		}
		ids := in.ContainerIDs
		if !batch {
			ids = []string{r.PathValue("containerId")}
		}
		e, err := h.Toolbox.Export(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), ids, in.IncludeSecrets, !preview)
		if err != nil {
			api.Error(w, r, err)
			return
		}
		if preview {
			api.WriteJSON(w, http.StatusOK, exportJSON{ContainerIDs: ids, ProjectName: e.Project.Name, Format: "compose",
				Compose: string(e.YAML), MaskedSecrets: e.Masked})
			return
		}
		w.Header().Set("Content-Type", "application/yaml")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", e.Project.Name+"-compose.yaml"))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(e.YAML)
	}
}
