package nekzus

import (
	"context"
	"math"
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/container"
	"netkeep/internal/ratelimit"
)

// Containers is what the container handlers need of the container domain.
type Containers interface {
	List(ctx context.Context, p *authz.Principal, f container.Filter) ([]container.Summary, error)
	Get(ctx context.Context, p *authz.Principal, id string) (*container.Detail, error)
	Operate(ctx context.Context, p *authz.Principal, src audit.Source, o container.Operation, id string, timeout int) (*container.Accepted, error)
	Batch(ctx context.Context, p *authz.Principal, src audit.Source, o container.Operation, ids []string, timeout int) ([]container.Result, error)
	All(ctx context.Context, p *authz.Principal, src audit.Source, o container.Operation, timeout int) ([]container.Result, error)
	Stats(ctx context.Context, p *authz.Principal, id string) (*container.Stats, error)
	AllStats(ctx context.Context, p *authz.Principal) ([]container.Stats, error)
}

// ContainerHandlers serve /api/v1/containers. Containers are server-wide:
// the domain admits super principals (and their keys with read:* or
// write:*) only.
type ContainerHandlers struct {
	Containers Containers
	// IPLimiter counts container operations per client address
	// (LimitContainers).
	IPLimiter *ratelimit.Limiter
}

// limitOps wraps an operation with the "Container operations" row of the
// rate-limit table; reads are not limited by it.
func (h *ContainerHandlers) limitOps(next http.HandlerFunc) http.Handler {
	return api.LimitIP(h.IPLimiter, "nekzus-"+string(LimitContainers), Limits[LimitContainers].Window(), next)
}

// containerJSON is a container as GET /api/v1/containers lists it.
type containerJSON struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Image     string            `json:"image"`
	State     string            `json:"state"`
	Status    string            `json:"status"`
	Created   int64             `json:"created"`
	Ports     []portJSON        `json:"ports"`
	Labels    map[string]string `json:"labels"`
	Runtime   string            `json:"runtime"`
	Namespace string            `json:"namespace"`
}

type portJSON struct {
	IP          string `json:"ip"`
	PrivatePort int    `json:"privatePort"`
	PublicPort  int    `json:"publicPort"`
	Type        string `json:"type"`
}

func viewContainer(c container.Summary) containerJSON {
	v := containerJSON{ID: c.ID, Name: c.Name, Image: c.Image, State: c.State, Status: c.Status, Created: c.Created.Unix(),
		Ports: make([]portJSON, 0, len(c.Ports)), Labels: c.Labels, Runtime: c.Runtime, Namespace: c.Namespace}
	if v.Labels == nil {
		v.Labels = map[string]string{}
	}
	for _, p := range c.Ports {
		v.Ports = append(v.Ports, portJSON{IP: p.IP, PrivatePort: p.PrivatePort, PublicPort: p.PublicPort, Type: p.Type})
	}
	return v
}

// containerDetailJSON is GET /api/v1/containers/{containerId}: the
// listing's fields and the rest of the container's configuration and
// state (environment values excepted: they often hold secrets).
type containerDetailJSON struct {
	containerJSON
	Command       []string      `json:"command"`
	Entrypoint    []string      `json:"entrypoint"`
	WorkingDir    string        `json:"workingDir"`
	Hostname      string        `json:"hostname"`
	StartedAt     *time.Time    `json:"startedAt"`
	FinishedAt    *time.Time    `json:"finishedAt"`
	ExitCode      int           `json:"exitCode"`
	RestartCount  int           `json:"restartCount"`
	RestartPolicy string        `json:"restartPolicy"`
	NetworkMode   string        `json:"networkMode"`
	TTY           bool          `json:"tty"`
	Mounts        []mountJSON   `json:"mounts"`
	Networks      []networkInfo `json:"networks"`
}

type mountJSON struct {
	Type        string `json:"type"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Mode        string `json:"mode"`
	ReadWrite   bool   `json:"rw"`
}

type networkInfo struct {
	Name       string `json:"name"`
	IPAddress  string `json:"ipAddress"`
	Gateway    string `json:"gateway"`
	MACAddress string `json:"macAddress"`
}

func viewContainerDetail(d *container.Detail) containerDetailJSON {
	v := containerDetailJSON{containerJSON: viewContainer(d.Summary), Command: orEmpty(d.Command), Entrypoint: orEmpty(d.Entrypoint),
		WorkingDir: d.WorkingDir, Hostname: d.Hostname, StartedAt: timeOrNil(d.StartedAt), FinishedAt: timeOrNil(d.FinishedAt),
		ExitCode: d.ExitCode, RestartCount: d.RestartCount, RestartPolicy: d.RestartPolicy, NetworkMode: d.NetworkMode, TTY: d.TTY,
		Mounts: make([]mountJSON, 0, len(d.Mounts)), Networks: make([]networkInfo, 0, len(d.Networks))}
	for _, m := range d.Mounts {
		v.Mounts = append(v.Mounts, mountJSON{Type: m.Type, Source: m.Source, Destination: m.Destination, Mode: m.Mode, ReadWrite: m.ReadWrite})
	}
	for _, n := range d.Networks {
		v.Networks = append(v.Networks, networkInfo{Name: n.Name, IPAddress: n.IPAddress, Gateway: n.Gateway, MACAddress: n.MACAddress})
	}
	return v
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// acceptedJSON is the 202 answer of start, stop and restart; Timeout is
// shown by stop, as documented.
type acceptedJSON struct {
	Status      string `json:"status"`
	ContainerID string `json:"containerId"`
	Message     string `json:"message"`
	Timeout     int    `json:"timeout,omitempty"`
	Timestamp   int64  `json:"timestamp"`
}

func viewAccepted(a *container.Accepted) acceptedJSON {
	v := acceptedJSON{Status: "accepted", ContainerID: a.ContainerID, Message: "Container " + string(a.Operation) + " initiated",
		Timestamp: a.Time.Unix()}
	if a.Operation == container.OpStop {
		v.Timeout = a.Timeout
	}
	return v
}

// containerStatsJSON is GET /api/v1/containers/{containerId}/stats.
type containerStatsJSON struct {
	ContainerID string     `json:"containerId"`
	CPU         cpuJSON    `json:"cpu"`
	Memory      memoryJSON `json:"memory"`
	Network     netIOJSON  `json:"network"`
	Timestamp   int64      `json:"timestamp"`
}

type cpuJSON struct {
	Usage      float64 `json:"usage"`
	CoresUsed  float64 `json:"coresUsed"`
	TotalCores float64 `json:"totalCores"`
}

type memoryJSON struct {
	Usage     float64 `json:"usage"`
	Used      uint64  `json:"used"`
	Limit     uint64  `json:"limit"`
	Available uint64  `json:"available"`
}

type netIOJSON struct {
	Rx uint64 `json:"rx"`
	Tx uint64 `json:"tx"`
}

// round2 keeps two decimals, as docker stats shows percentages.
func round2(v float64) float64 { return math.Round(v*100) / 100 }

func viewStats(s *container.Stats) containerStatsJSON {
	return containerStatsJSON{ContainerID: s.ContainerID,
		CPU:     cpuJSON{Usage: round2(s.CPU.Usage), CoresUsed: round2(s.CPU.CoresUsed*100) / 100, TotalCores: s.CPU.TotalCores},
		Memory:  memoryJSON{Usage: round2(s.Memory.Usage), Used: s.Memory.Used, Limit: s.Memory.Limit, Available: s.Memory.Available},
		Network: netIOJSON{Rx: s.Network.Rx, Tx: s.Network.Tx}, Timestamp: s.Time.Unix()}
}

// allContainerStatsJSON is GET /api/v1/containers/stats.
type allContainerStatsJSON struct {
	Containers []containerStatsJSON `json:"containers"`
	Timestamp  int64                `json:"timestamp"`
}

// bulkJSON answers the bulk operations: one result per container.
type bulkJSON struct {
	Operation string           `json:"operation"`
	Results   []bulkResultJSON `json:"results"`
	Total     int              `json:"total"`
	Succeeded int              `json:"succeeded"`
	Failed    int              `json:"failed"`
	Timestamp int64            `json:"timestamp"`
}

type bulkResultJSON struct {
	ContainerID string `json:"containerId"`
	Name        string `json:"name,omitempty"`
	Success     bool   `json:"success"`
	Status      string `json:"status"`
	Error       string `json:"error,omitempty"`
}

func viewBulk(o container.Operation, rs []container.Result) bulkJSON {
	v := bulkJSON{Operation: string(o), Results: make([]bulkResultJSON, 0, len(rs)), Total: len(rs), Timestamp: time.Now().Unix()}
	for _, r := range rs {
		v.Results = append(v.Results, bulkResultJSON{ContainerID: r.ContainerID, Name: r.Name, Success: r.Success, Status: r.Status, Error: r.Error})
		if r.Success {
			v.Succeeded++
		} else {
			v.Failed++
		}
	}
	return v
}

func (h *ContainerHandlers) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cs, err := h.Containers.List(r.Context(), api.PrincipalFrom(r.Context()),
		container.Filter{Runtime: q.Get("runtime"), Namespace: q.Get("namespace")})
	api.RespondList(w, r, cs, err, viewContainer)
}

func (h *ContainerHandlers) get(w http.ResponseWriter, r *http.Request) {
	d, err := h.Containers.Get(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("containerId"))
	api.Respond(w, r, http.StatusOK, d, err, viewContainerDetail)
}

// timeout reads the grace period query parameter (default 10 seconds).
func timeout(r *http.Request) (int, error) {
	n, err := api.IntParam(r.URL.Query().Get("timeout"), container.DefaultTimeout, 1, container.MaxTimeout)
	if err != nil {
		return 0, container.CheckTimeout(-1)
	}
	return n, nil
}

// operate serves POST /api/v1/containers/{containerId}/start|stop|restart.
func (h *ContainerHandlers) operate(o container.Operation) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, err := timeout(r)
		if err != nil {
			api.Error(w, r, err)
			return
		}
		a, err := h.Containers.Operate(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), o, r.PathValue("containerId"), t)
		api.Respond(w, r, http.StatusAccepted, a, err, viewAccepted)
	}
}

// all serves POST /api/v1/containers/start-all|stop-all|restart-all.
func (h *ContainerHandlers) all(o container.Operation) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, err := timeout(r)
		if err != nil {
			api.Error(w, r, err)
			return
		}
		rs, err := h.Containers.All(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), o, t)
		api.Respond(w, r, http.StatusOK, rs, err, func(rs []container.Result) bulkJSON { return viewBulk(o, rs) })
	}
}

// batch serves POST /api/v1/containers/batch.
func (h *ContainerHandlers) batch(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Operation    string   `json:"operation"`
		ContainerIDs []string `json:"containerIds"`
		Timeout      *int     `json:"timeout"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	o, err := container.ParseOperation(in.Operation)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	t := container.DefaultTimeout
	if in.Timeout != nil {
		t = *in.Timeout
	}
	rs, err := h.Containers.Batch(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), o, in.ContainerIDs, t)
	api.Respond(w, r, http.StatusOK, rs, err, func(rs []container.Result) bulkJSON { return viewBulk(o, rs) })
}

func (h *ContainerHandlers) stats(w http.ResponseWriter, r *http.Request) {
	s, err := h.Containers.Stats(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("containerId"))
	api.Respond(w, r, http.StatusOK, s, err, viewStats)
}

func (h *ContainerHandlers) allStats(w http.ResponseWriter, r *http.Request) {
	ss, err := h.Containers.AllStats(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	v := allContainerStatsJSON{Containers: make([]containerStatsJSON, 0, len(ss)), Timestamp: time.Now().Unix()}
	for i := range ss {
		v.Containers = append(v.Containers, viewStats(&ss[i]))
	}
	api.WriteJSON(w, http.StatusOK, v)
}
