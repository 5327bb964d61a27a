package gatekey

import (
	"context"

	"netkeep/internal/fault"
	"netkeep/internal/remote"
)

// notConnected is the answer for a gateway whose agent has no channel on
// this process. Channels live in memory on the replica the agent
// connected to, and commands are not relayed between replicas: behind a
// load balancer, an administrator reaches an agent through that replica
// (docs/gatekey-migration.md).
func notConnected(gatewayID string) error {
	return fault.New(fault.Unavailable, "the agent of gateway "+gatewayID+" is not connected to this server "+
		"(an agent is reachable only through the netkeep replica its channel is open to)").
		WithDetails(map[string]any{"gateway_id": gatewayID})
}

// Exec runs command on gatewayID's host through its agent's newest
// channel (remote.Agents): the agent runs it with /bin/sh -c and streams
// its output, of which the first limit bytes are kept.
func (c *AgentChannel) Exec(ctx context.Context, gatewayID, command string, limit int) (*remote.AgentRun, error) {
	l := c.agents.link(gatewayID)
	if l == nil {
		return nil, notConnected(gatewayID)
	}
	run := &remote.AgentRun{}
	code, err := l.exec(ctx, commandID("run-"), command, 0, func(o agentOutput) {
		keep := o.Output
		if room := limit - len(run.Output); len(keep) > room {
			keep, run.Truncated = keep[:max(room, 0)], true
		}
		run.Output = append(run.Output, keep...)
	})
	run.ExitCode = code
	return run, err
}
