package gatekey

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/authz"
)

// connectedAgent is one authenticated channel on /ws/agent: the gateway
// whose token it gave and what the agent said it is.
type connectedAgent struct {
	GatewayID string
	NodeType  string // gateway, hub or spoke (gateway.CheckAgentNode admitted it)
	NodeID    string
	NodeName  string
	Since     time.Time
	link      *agentLink // its commands; nil in tests of the list alone
}

// agentRegistry is the channels open on this process. It is memory, not
// the store: a channel lives on one replica, so behind a load balancer each
// replica knows only its own agents (as GateKey's single server does).
type agentRegistry struct {
	mu   sync.Mutex
	seq  uint64
	open map[uint64]connectedAgent
}

// add records a channel until the returned function is called.
func (r *agentRegistry) add(a connectedAgent) (remove func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.open == nil {
		r.open = map[uint64]connectedAgent{}
	}
	r.seq++
	key := r.seq
	r.open[key] = a
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.open, key)
	}
}

// of returns the open channels of the gateways in ids, oldest first.
func (r *agentRegistry) of(ids map[string]bool) []connectedAgent {
	r.mu.Lock()
	out := make([]connectedAgent, 0, len(r.open))
	for _, a := range r.open {
		if ids[a.GatewayID] {
			out = append(out, a)
		}
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b connectedAgent) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.GatewayID, b.GatewayID), cmp.Compare(a.NodeType, b.NodeType))
	})
	return out
}

// link returns the command side of gatewayID's newest channel, or nil.
// An agent that reconnects may briefly hold two channels; the newest is
// the one it reads.
func (r *agentRegistry) link(gatewayID string) *agentLink {
	r.mu.Lock()
	defer r.mu.Unlock()
	var newest connectedAgent
	for _, a := range r.open {
		if a.GatewayID == gatewayID && a.link != nil && (newest.link == nil || a.Since.After(newest.Since)) {
			newest = a
		}
	}
	return newest.link
}

// remoteAgentJSON is a connected agent as gatekey-admin's "remote-session
// agents" decodes it. agentId is the gateway's id (the auth_response's
// agentId); nodeName is the agent's own, else the gateway's name.
type remoteAgentJSON struct {
	AgentID   string `json:"agentId"`
	NodeType  string `json:"nodeType"`
	NodeID    string `json:"nodeId"`
	NodeName  string `json:"nodeName"`
	Connected string `json:"connected"`
}

// remoteSessionAgents lists the agents connected to this replica whose
// gateways the caller administers.
func (h *Handlers) remoteSessionAgents(w http.ResponseWriter, r *http.Request) {
	agents, err := h.adminAgents(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writePage(w, r, "agents", agents, func(a remoteAgentJSON) remoteAgentJSON { return a })
}

// adminAgents are the agents connected to this replica whose gateways p
// administers: the domain decides which gateways those are (a USER is
// refused, another group's gateways are left out); the registry says
// which of them have a channel open.
func (h *Handlers) adminAgents(ctx context.Context, p *authz.Principal) ([]remoteAgentJSON, error) {
	gws, err := h.Gateways.AdminGateways(ctx, p)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(gws))
	ids := make(map[string]bool, len(gws))
	for _, g := range gws {
		names[g.ID], ids[g.ID] = g.Name, true
	}
	out := []remoteAgentJSON{}
	if h.Channel == nil {
		return out, nil
	}
	for _, a := range h.Channel.agents.of(ids) {
		out = append(out, remoteAgentJSON{AgentID: a.GatewayID, NodeType: a.NodeType, NodeID: cmp.Or(a.NodeID, a.GatewayID),
			NodeName: cmp.Or(a.NodeName, names[a.GatewayID]), Connected: a.Since.UTC().Format(time.RFC3339Nano)})
	}
	return out, nil
}
