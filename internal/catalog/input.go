package catalog

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// RouteInput is an app and its route as a caller gives them: the API's
// create and update calls, a route file, a discovery approval. On create
// AppID and To are required; on update nil fields keep their value.
type RouteInput struct {
	RouteID     *string
	AppID       *string
	Name        *string
	Icon        *string
	Tags        *[]string
	Endpoints   *map[string]string
	PathBase    *string // if given, must be /apps/{AppID}/ (the only place a route is served)
	To          *string
	StripPrefix *bool
	WebSocket   *bool
	Scopes      *[]string
	Auth        *Auth
	Timeout     *time.Duration
	Cache       *bool
	Status      *string
}

// apply validates in over e (a copy the caller owns) and returns the names
// of the fields that changed.
func (in RouteInput) apply(e *Entry) ([]string, error) {
	a, r := e.App, e.Route
	if in.PathBase != nil && strings.TrimSuffix(*in.PathBase, "/") != strings.TrimSuffix(PathBase(a.ID), "/") {
		return nil, invalidField("pathBase", "pathBase must be "+PathBase(a.ID))
	}
	var changed []string
	set := func(field string, differs bool) {
		if differs {
			changed = append(changed, field)
		}
	}
	if in.Name != nil {
		v, err := validLabel("name", *in.Name, 128)
		if err != nil {
			return nil, err
		}
		set("name", v != a.Name)
		a.Name = v
	}
	if a.Name == "" {
		a.Name = a.ID
	}
	if in.Icon != nil {
		v, err := validLabel("icon", *in.Icon, 128)
		if err != nil {
			return nil, err
		}
		set("icon", v != a.Icon)
		a.Icon = v
	}
	if in.Tags != nil {
		v, err := validTags(*in.Tags)
		if err != nil {
			return nil, err
		}
		set("tags", !slices.Equal(v, a.Tags))
		a.Tags = v
	}
	if in.Endpoints != nil {
		v, err := validEndpoints(*in.Endpoints)
		if err != nil {
			return nil, err
		}
		set("endpoints", !maps.Equal(v, a.Endpoints))
		a.Endpoints = v
	}
	if in.To != nil {
		v, err := ValidUpstream(*in.To)
		if err != nil {
			return nil, err
		}
		set("to", v != r.To)
		r.To = v
	}
	if r.To == "" {
		return nil, invalidField("to", "to (the upstream URL) is required")
	}
	if len(a.Endpoints) == 0 {
		a.Endpoints = map[string]string{"lan": r.To}
	}
	if in.StripPrefix != nil {
		set("stripPrefix", *in.StripPrefix != r.StripPrefix)
		r.StripPrefix = *in.StripPrefix
	}
	if in.WebSocket != nil {
		set("websocket", *in.WebSocket != r.WebSocket)
		r.WebSocket = *in.WebSocket
	}
	if in.Scopes != nil || r.Scopes == nil {
		var given []string
		if in.Scopes != nil {
			given = *in.Scopes
		}
		v, err := validScopes(given)
		if err != nil {
			return nil, err
		}
		set("scopes", !slices.Equal(v, r.Scopes))
		r.Scopes = v
	}
	if in.Auth != nil || r.Auth == "" {
		var given Auth
		if in.Auth != nil {
			given = *in.Auth
		}
		v, err := validAuth(given)
		if err != nil {
			return nil, err
		}
		set("auth", v != r.Auth)
		r.Auth = v
	}
	if in.Timeout != nil || r.Timeout == 0 {
		var given time.Duration
		if in.Timeout != nil {
			given = *in.Timeout
		}
		v, err := validTimeout(given)
		if err != nil {
			return nil, err
		}
		set("timeout", v != r.Timeout)
		r.Timeout = v
	}
	if in.Cache != nil {
		set("cache", *in.Cache != r.Cache)
		r.Cache = *in.Cache
	}
	if in.Status != nil || r.Status == "" {
		v := StatusActive
		if in.Status != nil && *in.Status != "" {
			v = *in.Status
		}
		if v != StatusActive && v != StatusDisabled {
			return nil, invalidField("status", "status must be ACTIVE or DISABLED")
		}
		set("status", v != r.Status)
		r.Status = v
	}
	return changed, nil
}
