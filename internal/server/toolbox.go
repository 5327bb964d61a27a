package server

import (
	"context"

	"netkeep/internal/api/nekzus"
	"netkeep/internal/docker"
	"netkeep/internal/store"
	"netkeep/internal/toolbox"
)

// registerToolbox builds the toolbox over the Docker engine discovery
// watches (none without --docker-host: deployments and exports then answer
// 503) and registers its routes. Background deployments end with Close.
func (s *Server) registerToolbox(d Deps) {
	cat, err := toolbox.LoadCatalog()
	if err != nil {
		panic(err) // the templates are embedded: a test catches a bad one before it ships
	}
	var engine toolbox.Engine
	if d.Config.DockerHost != "" {
		s.projects = docker.NewProjects(d.Config.DockerHost)
		engine = s.projects
	}
	ctx, stop := context.WithCancel(context.Background())
	s.stopToolbox = stop
	s.Toolbox = toolbox.NewService(ctx, cat, store.For[toolbox.Tx](d.DB), engine, d.Bus, d.Logger)
	(&nekzus.ToolboxHandlers{Toolbox: s.Toolbox}).Register(s.router)
}

// closeToolbox ends background deployments and the engine connection.
func (s *Server) closeToolbox() {
	s.stopToolbox()
	s.Toolbox.Wait()
	if s.projects != nil {
		_ = s.projects.Close()
	}
}
