package toolbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
)

// Service is the toolbox: its catalog, deployments and exports.
type Service struct {
	catalog *Catalog
	store   Store
	engine  Engine // nil: no engine configured
	bus     event.Bus
	log     *slog.Logger
	now     func() time.Time
	bg      context.Context // background deployments live as long as this
	wg      sync.WaitGroup

	mu     sync.Mutex
	lastID int64 // the last deployment id's microseconds, kept increasing
}

// NewService returns the toolbox over catalog; engine may be nil (every
// deployment and export is then unavailable). Deployments run in the
// background until bg ends.
func NewService(bg context.Context, c *Catalog, st Store, engine Engine, bus event.Bus, log *slog.Logger) *Service {
	return &Service{catalog: c, store: st, engine: engine, bus: bus, log: log, now: time.Now, bg: bg}
}

// Wait waits for the background deployments to end (after bg ends).
func (s *Service) Wait() { s.wg.Wait() }

// Templates returns the catalog's templates of category ("" all).
func (s *Service) Templates(p *authz.Principal, category string) ([]*Template, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	return s.catalog.List(category), nil
}

// Template returns one template. Errors: not_found, forbidden.
func (s *Service) Template(p *authz.Principal, id string) (*Template, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	return s.catalog.Get(id)
}

// newID is "deploy_" and the creation time in microseconds (the seed's
// form), kept strictly increasing on this replica.
func (s *Service) newID(at time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := max(at.UnixMicro(), s.lastID+1)
	s.lastID = n
	return fmt.Sprintf("deploy_%d", n)
}

// Deploy validates r, records the deployment pending and brings it up in
// the background; progress and the outcome are published on the bus.
// Errors: not_found (template), invalid (values), conflict (the name is
// deployed already), unavailable (no engine), forbidden.
func (s *Service) Deploy(ctx context.Context, p *authz.Principal, src audit.Source, r Request) (*Deployment, error) {
	if err := authz.AllowServer(p, actWrite); err != nil {
		return nil, err
	}
	t, err := s.catalog.Get(r.ServiceID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	id := s.newID(now)
	proj, err := t.Project(ctx, id, r)
	if err != nil {
		return nil, err
	}
	if s.engine == nil {
		return nil, errNoEngine
	}
	d := &Deployment{ID: id, TemplateID: t.ID, Name: proj.Name, Status: Pending, EnvVars: t.masked(r.EnvVars),
		CustomPort: r.CustomPort, AutoStart: r.AutoStart, Containers: []string{}, CreatedBy: p.Actor(), CreatedAt: now, UpdatedAt: now}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateDeployment(ctx, d); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, 0, "toolbox.deploy", "deployment:"+d.ID,
			map[string]any{"service_id": t.ID, "name": d.Name, "env_vars": d.EnvVars, "custom_port": d.CustomPort, "auto_start": d.AutoStart})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, ActionProgress, d, fmt.Sprintf("Deployment '%s' initiated", d.Name))
	out := *d
	s.wg.Go(func() { s.run(s.bg, src, d, Plan{DeploymentID: d.ID, Project: proj, Start: r.AutoStart}) })
	return &out, nil
}

// run brings d up and records how it ended.
func (s *Service) run(ctx context.Context, src audit.Source, d *Deployment, plan Plan) {
	d.Status = Deploying
	s.save(ctx, src, d, "")
	s.publish(ctx, ActionProgress, d, fmt.Sprintf("Creating '%s'", d.Name))
	ids, err := s.engine.Deploy(ctx, plan)
	d.Containers = append(d.Containers[:0], ids...)
	if err != nil {
		d.Status, d.Reason = Failed, reasonOf(err)
		s.log.Warn("toolbox deployment failed", "deployment", d.ID, "error", err)
		s.save(ctx, src, d, "toolbox.deploy.failed")
		s.publish(ctx, ActionFailed, d, d.Reason)
		return
	}
	d.Status = Running
	s.save(ctx, src, d, "toolbox.deploy.completed")
	s.publish(ctx, ActionCompleted, d, fmt.Sprintf("Deployment '%s' is running", d.Name))
}

// reasonOf is what a failed deployment tells its user: the engine's
// user-safe message, never an internal cause.
func reasonOf(err error) string {
	if fe := fault.As(err); fe != nil && fe.Code != fault.Internal && fe.Code != "" {
		return fe.Message
	}
	return "the container engine refused the deployment (see the server log)"
}

// save writes d's state, with an audit entry when action is set; a failure
// is logged (what happened on the engine happened).
func (s *Service) save(ctx context.Context, src audit.Source, d *Deployment, action string) {
	ctx = context.WithoutCancel(ctx)
	d.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.UpdateDeployment(ctx, d); err != nil {
			return err
		}
		if action == "" {
			return nil
		}
		return audit.Record(ctx, tx, src, 0, action, "deployment:"+d.ID,
			map[string]any{"status": d.Status, "reason": d.Reason, "containers": d.Containers})
	})
	if err != nil {
		s.log.Error("recording a toolbox deployment", "deployment", d.ID, "error", err)
	}
}

// publish tells subscribers (the WebSocket stream) where d is.
func (s *Service) publish(ctx context.Context, action string, d *Deployment, msg string) {
	if s.bus == nil {
		return
	}
	data, _ := json.Marshal(DeploymentEvent{DeploymentID: d.ID, ServiceID: d.TemplateID, Name: d.Name, Status: d.Status,
		Message: msg, Timestamp: s.now().Unix()})
	if err := s.bus.Publish(context.WithoutCancel(ctx), event.Event{Topic: Topic, Action: action, ID: d.ID, Data: data}); err != nil {
		s.log.Warn("publishing a toolbox event", "deployment", d.ID, "error", err)
	}
}

// Deployments returns the deployments of status ("" all), newest first.
// Errors: invalid (an unknown status), forbidden.
func (s *Service) Deployments(ctx context.Context, p *authz.Principal, status Status) ([]*Deployment, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	if status != "" && !ValidStatus(status) {
		return nil, invalid("", "status", "status must be pending, deploying, running or failed")
	}
	return s.store.Read().ListDeployments(ctx, status)
}

// Deployment returns one deployment. Errors: not_found, forbidden.
func (s *Service) Deployment(ctx context.Context, p *authz.Principal, id string) (*Deployment, error) {
	if err := authz.AllowServer(p, actRead); err != nil {
		return nil, err
	}
	return s.store.Read().DeploymentByID(ctx, id)
}

// StaleAfter is how long a deployment may stay pending or deploying before
// removal is allowed anyway: the replica bringing it up stopped halfway.
const StaleAfter = 10 * time.Minute

// Remove removes a deployment's containers and network (and volumes when
// volumes is true) from the engine, then forgets it. Errors: not_found,
// conflict (still deploying, and not stale), unavailable (engine),
// forbidden.
func (s *Service) Remove(ctx context.Context, p *authz.Principal, src audit.Source, id string, volumes bool) (*Deployment, error) {
	if err := authz.AllowServer(p, actWrite); err != nil {
		return nil, err
	}
	d, err := s.store.Read().DeploymentByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if (d.Status == Pending || d.Status == Deploying) && s.now().Sub(d.UpdatedAt) < StaleAfter {
		return nil, fault.New(fault.Conflict, "the deployment is still in progress; remove it once it has finished").WithReason(ReasonBusy)
	}
	if s.engine == nil {
		return nil, errNoEngine
	}
	if err := s.engine.Remove(ctx, d.ID, volumes); err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.DeleteDeployment(ctx, d.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, src, 0, "toolbox.remove", "deployment:"+d.ID,
			map[string]any{"name": d.Name, "remove_volumes": volumes})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, ActionRemoved, d, fmt.Sprintf("Deployment '%s' removed", d.Name))
	return d, nil
}

// masked is the values given as recorded: a secret variable's value is
// never stored.
func (t *Template) masked(given map[string]string) map[string]string {
	out := make(map[string]string, len(given))
	for k, v := range given {
		if ev := t.envVar(k); ev != nil && ev.Secret {
			v = Mask
		}
		out[k] = v
	}
	return out
}

func notFoundTemplate(id string) error {
	return fault.New(fault.NotFound, "service template not found").WithReason(ReasonTemplateNotFound).
		WithDetails(map[string]any{"serviceId": id})
}

// NotFoundDeployment is the error of an unknown deployment id.
func NotFoundDeployment(id string) error {
	return fault.New(fault.NotFound, "deployment not found").WithReason(ReasonDeploymentNotFound).
		WithDetails(map[string]any{"deploymentId": id})
}
