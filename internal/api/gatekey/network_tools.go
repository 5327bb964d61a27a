package gatekey

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
	"netkeep/internal/remote"
)

// gatekey-admin's "troubleshoot" commands (GET /api/v1/admin/network-tools,
// POST .../execute): diagnostic tools on this server ("control-plane") or
// on a gateway, a hub or a spoke through its agent's channel. The domain
// (remote.Service) decides who may run what, validates every argument,
// runs, limits and audits; these handlers decode and encode.

// Remote runs network tools and checks remote sessions; *remote.Service
// implements it.
type Remote interface {
	Tools(p *authz.Principal) ([]remote.Tool, error)
	Installed(t remote.Tool) bool
	Run(ctx context.Context, p *authz.Principal, src audit.Source, loc remote.Location, req remote.Request) (*remote.Result, error)
	MaySession(p *authz.Principal) error
	OpenSession(ctx context.Context, p *authz.Principal, src audit.Source, gatewayID string) (*gateway.Gateway, error)
	SessionCommand(ctx context.Context, src audit.Source, gw *gateway.Gateway, command string) error
}

// networkToolJSON is a tool as gatekey-admin decodes it; installed says
// whether this server has it (a gateway's agent reports its own).
type networkToolJSON struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Options     []string `json:"options"`
	Required    []string `json:"required,omitempty"`
	Installed   bool     `json:"installed"`
}

// toolLocationJSON is a place a tool can run: id is what a run's
// location names.
type toolLocationJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

type networkToolsJSON struct {
	Tools     []networkToolJSON  `json:"tools"`
	Locations []toolLocationJSON `json:"locations"`
}

// networkTools lists the tools and where they can run: this server, and
// the caller's gateways, hubs and spokes whose agents are connected to
// this server.
func (h *Handlers) networkTools(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	tools, err := h.Remote.Tools(p)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := networkToolsJSON{Locations: []toolLocationJSON{}}
	if remote.RunsOnServer(p) {
		out.Locations = append(out.Locations, toolLocationJSON{ID: remote.KindServer, Name: "Control Plane", Type: remote.KindServer})
	}
	for _, t := range tools {
		out.Tools = append(out.Tools, networkToolJSON{Name: t.Name, Description: t.Description, Options: t.Options,
			Required: t.Required, Installed: h.Remote.Installed(t)})
	}
	locs, err := h.agentLocations(r.Context(), p)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out.Locations = append(out.Locations, locs...)
	writeData(w, r, http.StatusOK, out)
}

// agentLocations are the caller's gateways with a channel open here, and
// the hubs and gateway spokes they are.
func (h *Handlers) agentLocations(ctx context.Context, p *authz.Principal) ([]toolLocationJSON, error) {
	gws, err := h.Gateways.AdminGateways(ctx, p)
	if err != nil || h.Channel == nil {
		return nil, err
	}
	hubs, err := h.Gateways.AdminHubs(ctx, p)
	if err != nil {
		return nil, err
	}
	ids, names := make(map[string]bool, len(gws)), make(map[string]string, len(gws))
	for _, g := range gws {
		ids[g.ID], names[g.ID] = true, g.Name
	}
	connected := map[string]bool{}
	var out []toolLocationJSON
	for _, a := range h.Channel.agents.of(ids) {
		if connected[a.GatewayID] {
			continue
		}
		connected[a.GatewayID] = true
		out = append(out, toolLocationJSON{ID: remote.KindGateway + ":" + a.GatewayID, Name: "Gateway: " + names[a.GatewayID],
			Type: remote.KindGateway})
	}
	for _, hub := range hubs {
		if connected[hub.GatewayID] {
			out = append(out, toolLocationJSON{ID: remote.KindHub + ":" + hub.ID, Name: "Hub: " + hub.Name, Type: remote.KindHub})
		}
		for _, sp := range hub.Spokes {
			if sp.Kind == gateway.SpokeGateway && connected[sp.ID] {
				out = append(out, toolLocationJSON{ID: remote.KindSpoke + ":" + hub.ID + ":" + sp.ID,
					Name: "Spoke: " + names[sp.ID], Type: remote.KindSpoke})
			}
		}
	}
	return out, nil
}

// networkToolRequest is gatekey-admin's request: options carries ping's
// "count" as a string.
type networkToolRequest struct {
	Tool     string            `json:"tool"`
	Target   string            `json:"target"`
	Port     int               `json:"port"`
	Ports    string            `json:"ports"`
	Location string            `json:"location"`
	Options  map[string]string `json:"options"`
}

// networkToolResult is a run as gatekey-admin decodes it (duration in
// Go's notation, startedAt RFC 3339), with the exit code and whether the
// output was cut.
type networkToolResult struct {
	Tool      string `json:"tool"`
	Target    string `json:"target"`
	Status    string `json:"status"`
	Output    string `json:"output"`
	Error     string `json:"error,omitempty"`
	Duration  string `json:"duration"`
	Location  string `json:"location"`
	StartedAt string `json:"startedAt"`
	ExitCode  int    `json:"exit_code"`
	Truncated bool   `json:"truncated"`
}

// runNetworkTool runs one tool where the request's location says.
func (h *Handlers) runNetworkTool(w http.ResponseWriter, r *http.Request) {
	var in networkToolRequest
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	req := remote.Request{Tool: in.Tool, Target: in.Target, Port: in.Port, Ports: in.Ports}
	if c, ok := in.Options["count"]; ok {
		n, err := strconv.Atoi(c)
		if err != nil {
			api.Error(w, r, fault.New(fault.Invalid, "options.count must be a whole number").
				WithDetails(map[string]any{"field": "count"}))
			return
		}
		req.Count = n
	}
	loc, err := remote.ParseLocation(in.Location)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	res, err := h.Remote.Run(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), loc, req)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, networkToolResult{Tool: res.Tool, Target: res.Target, Status: res.Status,
		Output: res.Output, Error: res.Error, Duration: res.Duration.String(), Location: res.Location.String(),
		StartedAt: res.StartedAt.Format(time.RFC3339), ExitCode: res.ExitCode, Truncated: res.Truncated})
}
