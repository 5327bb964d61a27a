// Package toolbox deploys services from a catalog of Compose templates kept
// in the binary, and exports running containers back to Compose files.
//
// A deployment is validated and interpolated with the Compose library
// (compose-go) before anything is written; it is then recorded pending,
// audited, and brought up in the background through an Engine
// (internal/docker adapts the Docker Engine API), moving pending →
// deploying → running, or failed with a reason. Every object a deployment
// creates carries the label LabelDeployment, so it can be found and
// removed later. Deployments act on the host's container engine, not on
// one group's data: like scripts and backups, only a SUPER_ADMIN (or one
// of its API keys) may use them.
//
// The package speaks the domain: it never imports net/http or database/sql.
package toolbox

import (
	"context"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// The labels netkeep puts on every container, network and volume of a
// deployment (besides Compose's own com.docker.compose.project).
const (
	LabelProject    = "com.docker.compose.project"
	LabelService    = "com.docker.compose.service"
	LabelDeployment = "netkeep.deployment"
	LabelTemplate   = "netkeep.toolbox.template"
)

// Status is where a deployment is.
type Status string

// The statuses: pending (recorded), deploying (creating on the engine),
// running (every container created, and started when asked), failed
// (Reason says why).
const (
	Pending   Status = "pending"
	Deploying Status = "deploying"
	Running   Status = "running"
	Failed    Status = "failed"
)

// ValidStatus reports whether s names a status.
func ValidStatus(s Status) bool {
	switch s {
	case Pending, Deploying, Running, Failed:
		return true
	}
	return false
}

// Deployment is one deployed template.
type Deployment struct {
	ID         string
	TemplateID string
	Name       string // the Compose project name
	Status     Status
	Reason     string            // why it failed
	EnvVars    map[string]string // as deployed, secret values masked
	CustomPort int
	AutoStart  bool
	Containers []string // engine ids of its containers, once created
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Store is the toolbox's persistence, bound with store.For[toolbox.Tx].
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	Read() Tx
}

// Tx is one transaction over deployments. A lookup of a missing id is a
// not_found fault; a name already deployed is a conflict.
type Tx interface {
	audit.Writer
	CreateDeployment(ctx context.Context, d *Deployment) error
	UpdateDeployment(ctx context.Context, d *Deployment) error
	DeploymentByID(ctx context.Context, id string) (*Deployment, error)
	// ListDeployments returns the deployments of status ("" all), newest first.
	ListDeployments(ctx context.Context, status Status) ([]*Deployment, error)
	DeleteDeployment(ctx context.Context, id string) error
}

// Plan is what an engine brings up: the validated project, and the
// deployment whose label every object carries.
type Plan struct {
	DeploymentID string
	Project      *types.Project
	Start        bool
}

// Engine creates and removes deployments' objects and reads containers
// back for export. Errors: unavailable (the engine does not answer),
// not_found (no such container), invalid with a user-safe message (an
// image not present locally: nothing is pulled).
type Engine interface {
	Deploy(ctx context.Context, p Plan) (containers []string, err error)
	// Remove removes every container and network labelled with the
	// deployment, and its volumes when volumes is true.
	Remove(ctx context.Context, deploymentID string, volumes bool) error
	// Describe reads a container back as a Compose service: what it was
	// created with beyond its image's defaults (environment, labels), and
	// the named volumes and networks it uses.
	Describe(ctx context.Context, id string) (*Described, error)
}

// Described is a container as a Compose service.
type Described struct {
	Service  types.ServiceConfig
	Volumes  types.Volumes  // the named volumes it mounts, declared external
	Networks types.Networks // the networks it is attached to, declared external
}

// Topic is the event topic of deployments; the actions are the WebSocket
// message types (ActionProgress and the two ends), data a DeploymentEvent.
const (
	Topic           = "toolbox"
	ActionProgress  = "toolbox.deployment.progress"
	ActionCompleted = "toolbox.deployment.completed"
	ActionFailed    = "toolbox.deployment.failed"
	ActionRemoved   = "toolbox.deployment.removed"
)

// DeploymentEvent is the data of the toolbox's events.
type DeploymentEvent struct {
	DeploymentID string `json:"deploymentId"`
	ServiceID    string `json:"serviceId"`
	Name         string `json:"name"`
	Status       Status `json:"status"`
	Message      string `json:"message"`
	Timestamp    int64  `json:"timestamp"`
}

// The authz actions.
const (
	actRead       authz.Action = "toolbox:read"
	actWrite      authz.Action = "toolbox:write"
	actContainers authz.Action = "containers:read"
)

// Reasons, rendered as the Nekzus error codes.
const (
	ReasonTemplateNotFound   fault.Reason = "service_not_found"
	ReasonDeploymentNotFound fault.Reason = "deployment_not_found"
	ReasonInvalidEnv         fault.Reason = "invalid_env"
	ReasonInvalidTemplate    fault.Reason = "invalid_template"
	ReasonBusy               fault.Reason = "deployment_in_progress"
	ReasonNoEngine           fault.Reason = "container_runtime_unavailable"
)

var errNoEngine = fault.New(fault.Unavailable, "no container engine is configured: start netkeep with --docker-host").WithReason(ReasonNoEngine)

func invalid(reason fault.Reason, field, msg string) error {
	return fault.New(fault.Invalid, msg).WithReason(reason).WithDetails(map[string]any{"field": field})
}
