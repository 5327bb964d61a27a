// Package docker adapts a Docker engine (the Docker Engine API over its
// socket, through the maintained Moby client module) to the catalog's
// discovery: it lists running containers as catalog sightings and follows
// the engine's container events, so proposals appear and disappear as
// containers start and stop. It is an adapter: the rules of what becomes
// a proposal are the catalog's (catalog.Propose).
package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"netkeep/internal/catalog"
)

// Source names the engine in proposals.
const Source = "docker"

// Engine is a connection to one Docker engine.
type Engine struct {
	cli *client.Client
}

// Open connects to the engine at host ("unix:///var/run/docker.sock",
// "tcp://host:2375") and checks it answers, agreeing on an API version.
func Open(ctx context.Context, host string) (*Engine, error) {
	cli, err := client.New(client.WithHost(host))
	if err != nil {
		return nil, fmt.Errorf("docker engine %s: %w", host, err)
	}
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		cli.Close()
		return nil, fmt.Errorf("docker engine %s: %w", host, err)
	}
	return &Engine{cli: cli}, nil
}

// Close releases the connection.
func (e *Engine) Close() error { return e.cli.Close() }

// Scan lists the running containers as sightings (catalog.Scanner).
func (e *Engine) Scan(ctx context.Context) ([]catalog.Sighting, error) {
	res, err := e.cli.ContainerList(ctx, client.ContainerListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	out := make([]catalog.Sighting, 0, len(res.Items))
	for _, c := range res.Items {
		if c.State != container.StateRunning {
			continue
		}
		out = append(out, sighting(c))
	}
	return out, nil
}

// sighting is what discovery needs of a container: its name, labels and
// the TCP ports published on this host.
func sighting(c container.Summary) catalog.Sighting {
	name := c.ID
	if len(c.Names) > 0 {
		name = strings.TrimPrefix(c.Names[0], "/")
	}
	s := catalog.Sighting{Source: Source, Key: name, Name: name, Image: c.Image, Labels: c.Labels,
		HostNetwork: c.HostConfig.NetworkMode == "host"}
	for _, p := range c.Ports {
		if p.PublicPort == 0 || p.Type != "tcp" {
			continue
		}
		host := ""
		if p.IP.IsValid() && !p.IP.IsUnspecified() {
			host = p.IP.String()
		}
		s.Ports = append(s.Ports, catalog.SightedPort{Host: host, Port: int(p.PublicPort)})
	}
	return s
}

// Discovery is what Watch drives: the catalog.
type Discovery interface {
	EnableDiscovery(source string, sc catalog.Scanner, group func(ctx context.Context) (int64, error))
	DisableDiscovery()
	Scan(ctx context.Context) error
}

// Watch keeps the catalog's proposals in step with the engine at host
// until ctx ends: it connects (retrying every retry while the engine is
// away), scans, then rescans on every container start, stop or removal.
// Discovery stays disabled until the engine first answers.
func Watch(ctx context.Context, host string, d Discovery, group func(ctx context.Context) (int64, error), retry time.Duration, log *slog.Logger) {
	warned := false
	for ctx.Err() == nil {
		err := watchOnce(ctx, host, d, group, log)
		if ctx.Err() != nil {
			return
		}
		if !warned {
			log.Warn("container discovery unavailable; retrying", "docker_host", host, "error", err)
			warned = true
		} else {
			log.Debug("container discovery unavailable", "docker_host", host, "error", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}

func watchOnce(ctx context.Context, host string, d Discovery, group func(ctx context.Context) (int64, error), log *slog.Logger) error {
	e, err := Open(ctx, host)
	if err != nil {
		return err
	}
	defer e.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Subscribe before the first scan so nothing that happens in between
	// is missed.
	ev := e.cli.Events(ctx, client.EventsListOptions{Filters: client.Filters{}.Add("type", "container")})
	d.EnableDiscovery(Source, e, group)
	defer d.DisableDiscovery()
	log.Info("container discovery enabled", "docker_host", host)
	if err := d.Scan(ctx); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-ev.Err:
			if err == nil {
				err = errors.New("event stream ended")
			}
			return err
		case m := <-ev.Messages:
			switch m.Action {
			case "start", "stop", "die", "destroy", "kill", "pause", "unpause", "rename":
				if err := d.Scan(ctx); err != nil {
					log.Warn("container discovery scan", "error", err)
				}
			}
		}
	}
}
