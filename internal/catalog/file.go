package catalog

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"netkeep/internal/audit"
	"netkeep/internal/fault"
)

// FileRoute is one entry of a route file: the fields of the API's create
// call, camelCase, with timeout as a Go duration ("30s").
type FileRoute struct {
	RouteID     string            `yaml:"routeId"`
	AppID       string            `yaml:"appId"`
	Name        string            `yaml:"name"`
	Icon        string            `yaml:"icon"`
	Tags        []string          `yaml:"tags"`
	Endpoints   map[string]string `yaml:"endpoints"`
	To          string            `yaml:"to"`
	StripPrefix *bool             `yaml:"stripPrefix"`
	WebSocket   bool              `yaml:"websocket"`
	Scopes      []string          `yaml:"scopes"`
	Auth        Auth              `yaml:"auth"`
	Timeout     string            `yaml:"timeout"`
	Cache       bool              `yaml:"cache"`
}

// ParseRouteFile reads a route file, YAML or JSON (JSON is YAML):
//
//	routes:
//	  - appId: grafana
//	    name: Grafana
//	    to: http://127.0.0.1:3000
//	    websocket: true
//
// Unknown keys are errors, so a typo does not silently drop a setting.
func ParseRouteFile(data []byte) ([]RouteInput, error) {
	var doc struct {
		Routes []FileRoute `yaml:"routes"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("route file: %w", err)
	}
	out := make([]RouteInput, 0, len(doc.Routes))
	seen := map[string]bool{}
	for i, r := range doc.Routes {
		if seen[r.AppID] {
			return nil, fmt.Errorf("route file: entry %d: appId %q is listed twice", i+1, r.AppID)
		}
		seen[r.AppID] = true
		in := RouteInput{AppID: &r.AppID, Name: &r.Name, Icon: &r.Icon, Tags: &r.Tags, To: &r.To,
			StripPrefix: r.StripPrefix, WebSocket: &r.WebSocket, Scopes: &r.Scopes, Auth: &r.Auth, Cache: &r.Cache}
		if r.RouteID != "" {
			in.RouteID = &r.RouteID
		}
		if r.Endpoints != nil {
			in.Endpoints = &r.Endpoints
		}
		if in.Tags == nil || *in.Tags == nil {
			in.Tags = &[]string{}
		}
		if r.Timeout != "" {
			d, err := time.ParseDuration(r.Timeout)
			if err != nil {
				return nil, fmt.Errorf("route file: entry %d: timeout: %w", i+1, err)
			}
			in.Timeout = &d
		}
		out = append(out, in)
	}
	return out, nil
}

// LoadFile makes the catalog hold exactly the routes of a route file among
// the apps that came from the file: listed ones are created or updated,
// file apps no longer listed are removed. They belong to groupID (the
// default group). An app id the API or discovery already uses is an error.
// It all happens in one transaction: a bad file changes nothing.
func (s *Service) LoadFile(ctx context.Context, src audit.Source, routes []RouteInput, groupID int64) error {
	var created, updated, deleted []Entry
	err := s.store.InTx(ctx, func(tx Tx) error {
		created, updated, deleted = nil, nil, nil
		fromFile, err := tx.AppsFrom(ctx, SourceFile)
		if err != nil {
			return err
		}
		owned := map[string]bool{}
		for _, id := range fromFile {
			owned[id] = true
		}
		listed := map[string]bool{}
		for _, in := range routes {
			id := *in.AppID
			listed[id] = true
			cur, err := tx.AppByID(ctx, id)
			switch {
			case fault.Is(err, fault.NotFound):
				e, err := newEntry(in, groupID, 0, s.stamp())
				if err != nil {
					return fileError(id, err)
				}
				if err := tx.InsertApp(ctx, e, SourceFile); err != nil {
					return fileError(id, conflictAs(err, id))
				}
				if err := audit.Record(ctx, tx, src, groupID, "app.create", appTarget(id), map[string]any{
					"route_id": e.Route.ID, "to": e.Route.To, "auth": e.Route.Auth, "source": SourceFile,
				}); err != nil {
					return err
				}
				created = append(created, e)
			case err != nil:
				return err
			case !owned[id]:
				return fileError(id, fault.Errorf(fault.Conflict, "app %q exists and was not made by the route file", id))
			default:
				if in.RouteID != nil && *in.RouteID != cur.Route.ID {
					return fileError(id, invalidField("routeId", "a route's id cannot change"))
				}
				next, dirty, err := s.update(ctx, tx, src, cur, in)
				if err != nil {
					return fileError(id, err)
				}
				if dirty {
					updated = append(updated, next)
				}
			}
		}
		for _, id := range fromFile {
			if listed[id] {
				continue
			}
			cur, err := tx.AppByID(ctx, id)
			if err != nil {
				return err
			}
			if err := s.remove(ctx, tx, src, cur); err != nil {
				return err
			}
			deleted = append(deleted, cur)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.Reload(ctx); err != nil {
		s.log.Warn("reloading the route table", "error", err)
	}
	for _, c := range []struct {
		action  string
		entries []Entry
	}{{ActionCreated, created}, {ActionUpdated, updated}, {ActionDeleted, deleted}} {
		for _, e := range c.entries {
			if c.action == ActionDeleted {
				s.health.forget(e.App.ID)
			}
			s.publish(ctx, TopicApp, c.action, e.App.GroupID, e.App.ID, nil)
		}
	}
	return nil
}

func fileError(appID string, err error) error {
	if fe := fault.As(err); fe != nil {
		return fmt.Errorf("route file: app %q: %s", appID, fe.Message)
	}
	return fmt.Errorf("route file: app %q: %w", appID, err)
}
