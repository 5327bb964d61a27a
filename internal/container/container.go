// Package container is netkeep's container management: it lists, inspects,
// starts, stops and restarts the containers of the configured runtimes,
// reads their resource usage and streams their logs.
//
// A Runtime is one container engine (the Docker Engine API today; the
// interface is shaped so a Kubernetes implementation, where a container is
// one container of a pod in a namespace, fits beside it). The Service
// applies netkeep's rules over the runtimes: who may act (containers are
// server-wide: only a super principal, or an API key of one holding
// containers:read / containers:write, which Nekzus's read:* and write:*
// grant), input validation, an audit entry for every change, a
// completion event on Topic for every asynchronous operation, and (Watch)
// a state-change event on Topic for every change a runtime reports,
// whoever made it.
//
// container is a domain package: it knows neither HTTP nor SQL, and its
// runtimes are adapters (internal/docker) injected by the server.
package container

import (
	"context"
	"time"
)

// The runtimes netkeep knows by name.
const (
	RuntimeDocker     = "docker"
	RuntimeKubernetes = "kubernetes"
)

// The states a container may be in, as Docker names them; a Kubernetes
// runtime maps its container states onto them.
const (
	StateRunning = "running"
	StateExited  = "exited"
	StateCreated = "created"
	StatePaused  = "paused"
)

// Summary is a container as a listing shows it.
type Summary struct {
	ID        string
	Name      string
	Image     string
	State     string // StateRunning, StateExited, ...
	Status    string // the runtime's human text: "Up 2 hours"
	Created   time.Time
	Ports     []Port
	Labels    map[string]string
	Runtime   string // RuntimeDocker, ...
	Namespace string // the Kubernetes namespace; "" for Docker
}

// Port is a container port and where it is published.
type Port struct {
	IP          string
	PrivatePort int
	PublicPort  int // 0: not published
	Type        string
}

// Detail is one container in full. Environment values are not part of it:
// they often hold secrets.
type Detail struct {
	Summary
	Command       []string
	Entrypoint    []string
	WorkingDir    string
	Hostname      string
	StartedAt     time.Time // zero: never started
	FinishedAt    time.Time // zero: not finished
	ExitCode      int
	RestartCount  int
	RestartPolicy string
	NetworkMode   string
	TTY           bool // stdout and stderr are one stream
	Mounts        []Mount
	Networks      []Network
}

// Mount is a volume or bind mount of a container.
type Mount struct {
	Type        string
	Source      string
	Destination string
	Mode        string
	ReadWrite   bool
}

// Network is a network a container is attached to.
type Network struct {
	Name       string
	IPAddress  string
	Gateway    string
	MACAddress string
}

// Stats is a container's resource usage at one moment.
type Stats struct {
	ContainerID string
	CPU         CPU
	Memory      Memory
	Network     NetworkIO
	Time        time.Time
}

// CPU usage: Usage is the percentage of one core, as docker stats shows it
// (two busy cores: 200); CoresUsed is the same in cores.
type CPU struct {
	Usage      float64
	CoresUsed  float64
	TotalCores float64
}

// Memory usage in bytes: Used excludes the page cache the kernel may
// reclaim, as docker stats does; Usage is Used as a percentage of Limit.
type Memory struct {
	Usage     float64
	Used      uint64
	Limit     uint64
	Available uint64
}

// NetworkIO is the bytes received and sent over every network.
type NetworkIO struct {
	Rx uint64
	Tx uint64
}

// Filter narrows a listing.
type Filter struct {
	Runtime   string // "" every configured runtime
	Namespace string // Kubernetes only; "" every namespace
}

// LogOptions say which part of a container's log to stream.
type LogOptions struct {
	Tail       int  // the last Tail lines first; 0: none, -1: all
	Follow     bool // then keep streaming new lines
	Timestamps bool // prefix each line with its RFC 3339 time
}

// The streams a log line comes from.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// LogLine is one line of a container's output.
type LogLine struct {
	Stream string // Stdout or Stderr
	Line   string // without its trailing newline
}

// Event is a change of a container the runtime reports.
type Event struct {
	ContainerID string
	Name        string // the container's name, when the runtime says
	Action      string // the runtime's word: "start", "die", "destroy", ...
	Time        time.Time
}

// Runtime is one container engine. Implementations return fault errors:
// not_found for an unknown container, unavailable when the engine cannot
// be reached (so that callers answer 503 and recover when it comes back),
// conflict when the engine refuses the operation in the container's state.
type Runtime interface {
	// Name is the runtime's name (RuntimeDocker, ...).
	Name() string
	// List returns every container, running or not.
	List(ctx context.Context, f Filter) ([]Summary, error)
	Inspect(ctx context.Context, id string) (*Detail, error)
	Start(ctx context.Context, id string) error
	// Stop asks the container to end, and kills it after timeout.
	Stop(ctx context.Context, id string, timeout time.Duration) error
	Restart(ctx context.Context, id string, timeout time.Duration) error
	// Stats returns the container's current usage, a second or so old at
	// most; it may take a moment (CPU usage is a rate over a short window),
	// at least the first time it is asked. id is the container's full id.
	Stats(ctx context.Context, id string) (*Stats, error)
	// Logs streams the container's output to emit, stdout and stderr
	// apart, until the log ends (without Follow), ctx ends, or emit
	// returns false. emit must not block: the engine's stream waits for it.
	Logs(ctx context.Context, id string, o LogOptions, emit func(LogLine) bool) error
	// Events reports container changes to emit until ctx ends or the
	// engine's stream fails.
	Events(ctx context.Context, emit func(Event)) error
}
