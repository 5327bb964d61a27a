package docker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	mcontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"netkeep/internal/container"
)

// Runtime is a Docker engine as a container.Runtime. Its calls hold no
// connection: each dials the engine, so an engine that goes away answers
// unavailable and one that comes back is used again without a restart.
// The stats feeds (statsfeed.go) are the exception: one open stream per
// container whose stats are asked for, ended by Close.
type Runtime struct {
	cli *client.Client
	// window is the time between the two samples CPU usage is measured
	// over when no stats feed answers.
	window time.Duration
	// statsIdle is how long a stats feed runs unasked.
	statsIdle time.Duration
	feeds     *statsFeeds
}

// RuntimeOption configures a Runtime.
type RuntimeOption func(*Runtime)

// WithStatsWindow sets the window CPU usage is measured over when no
// stats feed has it yet (default 500ms).
func WithStatsWindow(d time.Duration) RuntimeOption { return func(r *Runtime) { r.window = d } }

// WithStatsIdle sets how long a container's stats feed keeps running after
// the last time its stats were asked for (default one minute).
func WithStatsIdle(d time.Duration) RuntimeOption { return func(r *Runtime) { r.statsIdle = d } }

// NewRuntime returns the runtime of the engine at host
// ("unix:///var/run/docker.sock", "tcp://host:2375"). It does not contact
// the engine: an engine down now may be up on the first call.
func NewRuntime(host string, opts ...RuntimeOption) (*Runtime, error) {
	cli, err := client.New(client.WithHost(host))
	if err != nil {
		return nil, fmt.Errorf("docker engine %s: %w", host, err)
	}
	r := &Runtime{cli: cli, window: 500 * time.Millisecond, statsIdle: time.Minute}
	for _, o := range opts {
		o(r)
	}
	r.feeds = newStatsFeeds(r.statsIdle)
	return r, nil
}

// Close ends the stats feeds and releases the client's connections.
func (r *Runtime) Close() error {
	r.feeds.close()
	return r.cli.Close()
}

// Name is container.RuntimeDocker.
func (r *Runtime) Name() string { return container.RuntimeDocker }

// List returns every container of the engine. Docker has no namespaces: a
// namespace filter matches none of its containers.
func (r *Runtime) List(ctx context.Context, f container.Filter) ([]container.Summary, error) {
	if f.Namespace != "" {
		return nil, nil
	}
	res, err := r.cli.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		return nil, engineError(err, "", "")
	}
	out := make([]container.Summary, len(res.Items))
	for i, c := range res.Items {
		out[i] = summary(c)
	}
	return out, nil
}

func summary(c mcontainer.Summary) container.Summary {
	name := c.ID
	if len(c.Names) > 0 {
		name = strings.TrimPrefix(c.Names[0], "/")
	}
	s := container.Summary{ID: c.ID, Name: name, Image: c.Image, State: string(c.State), Status: c.Status,
		Created: time.Unix(c.Created, 0).UTC(), Labels: c.Labels, Runtime: container.RuntimeDocker}
	for _, p := range c.Ports {
		cp := container.Port{PrivatePort: int(p.PrivatePort), PublicPort: int(p.PublicPort), Type: p.Type}
		if p.IP.IsValid() {
			cp.IP = p.IP.String()
		}
		s.Ports = append(s.Ports, cp)
	}
	return s
}

// Inspect returns one container in full.
func (r *Runtime) Inspect(ctx context.Context, id string) (*container.Detail, error) {
	res, err := r.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, engineError(err, "", id)
	}
	return detail(res.Container), nil
}

func detail(c mcontainer.InspectResponse) *container.Detail {
	d := &container.Detail{Summary: container.Summary{ID: c.ID, Name: strings.TrimPrefix(c.Name, "/"),
		Runtime: container.RuntimeDocker, Created: parseTime(c.Created)}, RestartCount: c.RestartCount}
	if cfg := c.Config; cfg != nil {
		d.Image, d.Labels, d.Command, d.Entrypoint = cfg.Image, cfg.Labels, cfg.Cmd, cfg.Entrypoint
		d.WorkingDir, d.Hostname, d.TTY = cfg.WorkingDir, cfg.Hostname, cfg.Tty
	}
	if st := c.State; st != nil {
		d.State, d.ExitCode = string(st.Status), st.ExitCode
		d.StartedAt, d.FinishedAt = parseTime(st.StartedAt), parseTime(st.FinishedAt)
		d.Status = status(st)
	}
	if hc := c.HostConfig; hc != nil {
		d.RestartPolicy, d.NetworkMode = string(hc.RestartPolicy.Name), string(hc.NetworkMode)
	}
	for _, m := range c.Mounts {
		d.Mounts = append(d.Mounts, container.Mount{Type: string(m.Type), Source: m.Source, Destination: m.Destination,
			Mode: m.Mode, ReadWrite: m.RW})
	}
	if ns := c.NetworkSettings; ns != nil {
		for name, ep := range ns.Networks {
			if ep == nil {
				continue
			}
			n := container.Network{Name: name, MACAddress: ep.MacAddress.String()}
			if ep.IPAddress.IsValid() {
				n.IPAddress = ep.IPAddress.String()
			}
			if ep.Gateway.IsValid() {
				n.Gateway = ep.Gateway.String()
			}
			d.Networks = append(d.Networks, n)
		}
		for port, binds := range ns.Ports {
			for _, b := range binds {
				p := container.Port{PrivatePort: int(port.Num()), Type: string(port.Proto())}
				if b.HostIP.IsValid() {
					p.IP = b.HostIP.String()
				}
				fmt.Sscan(b.HostPort, &p.PublicPort)
				d.Ports = append(d.Ports, p)
			}
		}
	}
	return d
}

// status is the engine's state as the listing's status words it, roughly:
// "Up since ..." needs the engine's clock, so the detail says what it knows.
func status(st *mcontainer.State) string {
	switch {
	case st.Running:
		return "Up since " + st.StartedAt
	case st.Status == mcontainer.StateExited:
		return fmt.Sprintf("Exited (%d) at %s", st.ExitCode, st.FinishedAt)
	}
	return string(st.Status)
}

// parseTime reads the engine's RFC 3339 times; its zero time
// ("0001-01-01T00:00:00Z") and anything unreadable are zero.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t.UTC()
}

// Start starts the container; starting a running one changes nothing.
func (r *Runtime) Start(ctx context.Context, id string) error {
	_, err := r.cli.ContainerStart(ctx, id, client.ContainerStartOptions{})
	return engineError(err, "", id)
}

// Stop stops the container, killing it after timeout.
func (r *Runtime) Stop(ctx context.Context, id string, timeout time.Duration) error {
	secs := int(timeout / time.Second)
	_, err := r.cli.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &secs})
	return engineError(err, "", id)
}

// Restart stops (killing after timeout) and starts the container.
func (r *Runtime) Restart(ctx context.Context, id string, timeout time.Duration) error {
	secs := int(timeout / time.Second)
	_, err := r.cli.ContainerRestart(ctx, id, client.ContainerRestartOptions{Timeout: &secs})
	return engineError(err, "", id)
}

// Events reports the engine's container events until ctx ends or the
// stream fails.
func (r *Runtime) Events(ctx context.Context, emit func(container.Event)) error {
	ev := r.cli.Events(ctx, client.EventsListOptions{Filters: client.Filters{}.Add("type", "container")})
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-ev.Err:
			if ctx.Err() != nil {
				return nil
			}
			if err == nil {
				err = errors.New("event stream ended")
			}
			return engineError(err, "", "")
		case m := <-ev.Messages:
			emit(container.Event{ContainerID: m.Actor.ID, Name: m.Actor.Attributes["name"], Action: string(m.Action),
				Time: time.Unix(0, m.TimeNano).UTC()})
		}
	}
}
