package server

import (
	"context"
	"time"

	"netkeep/internal/api/nekzus"
	"netkeep/internal/authz"
	"netkeep/internal/container"
	"netkeep/internal/docker"
	"netkeep/internal/store"
)

// containerEventsRetry is how soon the engine's events are followed again
// after their stream failed (the engine went away).
const containerEventsRetry = 5 * time.Second

// registerContainers builds container management over the Docker engine
// of --docker-host (none: every container route answers 503) and its
// routes. The engine is dialled per call, so it may come and go.
func (s *Server) registerContainers(d Deps) {
	var rts []container.Runtime
	if d.Config.DockerHost != "" {
		rt, err := docker.NewRuntime(d.Config.DockerHost)
		if err != nil {
			d.Logger.Error("container management disabled", "docker_host", d.Config.DockerHost, "err", err)
		} else {
			s.dockerRuntime = rt
			rts = append(rts, rt)
		}
	}
	s.Containers = container.NewService(store.For[container.Tx](d.DB), d.Bus, rts, container.WithLogger(d.Logger))
	(&nekzus.ContainerHandlers{Containers: s.Containers, IPLimiter: s.ipLimiter}).Register(s.router)
}

// containerLogs serves the event stream's log subscriptions (the hub is
// built before the container service).
func (s *Server) containerLogs(ctx context.Context, p *authz.Principal, id string, o container.LogOptions, emit func(container.LogLine) bool) error {
	return s.Containers.Logs(ctx, p, id, o, emit)
}
