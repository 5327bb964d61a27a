package gatekey

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
)

// GET /ws/admin/session: an administrator's remote session (gatekey-admin
// "session exec" and "session connect", GateKey's web terminal), relayed to
// a gateway agent's channel (GET /ws/agent). The administrator
// authenticates the upgrade as for any admin request (Authorization:
// Bearer with an API key or an access token, or the web session cookie,
// which only this server's own pages may use: Origin is checked). Frames
// are {"type", "id", "payload", "timestamp"}, as on the agent's channel:
//
//	netkeep → admin  agent_list      {"agents": [...]} at once, and on request
//	admin → netkeep  connect_agent   {"agentId"}: a gateway id of the caller's group
//	netkeep → admin  agent_connected the request's payload, echoed
//	admin → netkeep  command         {"command"} (or {"command", "agentId"})
//	netkeep → admin  output          {"output", "is_stderr", "exit_code", "done"} with the
//	                                 command's id; the agent's own spellings
//	                                 ("isStderr", "exitCode") are sent as well
//	admin → netkeep  disconnect      leaves the agent; agent_list asks for the list
//	netkeep → admin  error           {"message"}
//
// GateKey's programs read is_stderr and exit_code while its agent writes
// isStderr and exitCode (its server passes the agent's frame on as it
// is, so its own clients never see an exit code); both are sent, so
// either reader gets the exit code.
//
// The session's commands run one after the other (GateKey's agent runs
// one at a time); each is audited with its text before it is sent, as is
// each agent the session reaches (remote.Service). An agent of another
// group is not found; an agent connected to another netkeep replica is
// not reachable from this one (notConnected). Limits: frames of at most
// sessionReadLimit bytes, commands of at most remote.MaxSessionCommand,
// sessionQueue commands waiting, and a session that hears nothing from
// the administrator for SessionIdle is closed.

// Admin session limits.
const (
	// SessionIdle closes a session that hears nothing from its
	// administrator for this long (longer than the agent's own limit of
	// five minutes for one command, so a waiting command never idles a
	// session out).
	SessionIdle      = 15 * time.Minute
	sessionReadLimit = 64 << 10
	sessionQueue     = 16
	// sessionCommandWithin bounds one command: the agent's own limit and
	// a margin.
	sessionCommandWithin = 5*time.Minute + 30*time.Second
)

// The admin session's message types besides the agent channel's.
const (
	adminMsgAgentList      = "agent_list"
	adminMsgConnectAgent   = "connect_agent"
	adminMsgAgentConnected = "agent_connected"
	adminMsgDisconnect     = "disconnect"
)

type adminAgentRequest struct {
	AgentID string `json:"agentId"`
}

type adminCommand struct {
	Command string `json:"command"`
	AgentID string `json:"agentId,omitempty"`
}

// adminOutput is a piece of a command's output in both spellings.
type adminOutput struct {
	Output        string `json:"output"`
	IsStderr      bool   `json:"is_stderr"`
	ExitCode      *int   `json:"exit_code,omitempty"`
	Done          bool   `json:"done"`
	AgentStderr   bool   `json:"isStderr,omitempty"`
	AgentExitCode *int   `json:"exitCode,omitempty"`
}

type adminError struct {
	Message string `json:"message"`
}

func (c *AgentChannel) sessionIdle() time.Duration {
	if c.SessionIdle > 0 {
		return c.SessionIdle
	}
	return SessionIdle
}

// adminSession checks the caller is an administrator, upgrades, and runs
// the session on a goroutine of its own.
func (h *Handlers) adminSession(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	if err := h.Remote.MaySession(p); err != nil {
		api.Error(w, r, err)
		return
	}
	ws, err := api.AcceptAuthenticatedSocket(w, r)
	if err != nil {
		return // Accept has answered
	}
	s := &adminSocket{h: h, ws: ws, p: p, src: api.Source(r), queue: make(chan queuedCommand, sessionQueue)}
	go s.run()
}

// adminSocket is one administrator's session.
type adminSocket struct {
	h     *Handlers
	ws    *websocket.Conn
	p     *authz.Principal
	src   audit.Source
	queue chan queuedCommand
	gw    *gateway.Gateway // the agent connected to; read and written by the reader only
}

// queuedCommand is a command waiting its turn, with the gateway it goes to.
type queuedCommand struct {
	id, command string
	gw          *gateway.Gateway
}

func (s *adminSocket) run() {
	defer s.ws.CloseNow()
	s.ws.SetReadLimit(sessionReadLimit)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.work(ctx)
	log := s.h.Channel.log().With("actor", s.src.Actor)
	log.Info("remote session started")
	defer log.Info("remote session ended")
	if !s.sendAgents(ctx) {
		return
	}
	idle := s.h.Channel.sessionIdle()
	for {
		rctx, rcancel := context.WithTimeout(ctx, idle)
		typ, b, err := s.ws.Read(rctx)
		rcancel()
		if err != nil {
			if ctx.Err() == nil && rctx.Err() != nil {
				_ = s.ws.Close(websocket.StatusPolicyViolation, "idle timeout")
			}
			return
		}
		var m agentMessage
		if typ != websocket.MessageText || json.Unmarshal(b, &m) != nil {
			s.fail("Invalid message")
			continue
		}
		if !s.handle(ctx, m) {
			return
		}
	}
}

// handle acts on one message of the administrator; false ends the session.
func (s *adminSocket) handle(ctx context.Context, m agentMessage) bool {
	switch m.Type {
	case adminMsgAgentList:
		return s.sendAgents(ctx)
	case agentMsgPing:
		return agentWrite(s.ws, agentMsgPong, "", nil)
	case adminMsgDisconnect:
		s.gw = nil
	case adminMsgConnectAgent:
		var in adminAgentRequest
		if json.Unmarshal(m.Payload, &in) != nil || in.AgentID == "" {
			return s.fail("Invalid connect payload")
		}
		gw, ok := s.reach(ctx, in.AgentID)
		if !ok {
			return true
		}
		s.gw = gw
		return agentWrite(s.ws, adminMsgAgentConnected, m.ID, m.Payload)
	case agentMsgCommand:
		var in adminCommand
		if json.Unmarshal(m.Payload, &in) != nil {
			return s.fail("Invalid command payload")
		}
		gw := s.gw
		if in.AgentID != "" && (gw == nil || in.AgentID != gw.ID) {
			var ok bool
			if gw, ok = s.reach(ctx, in.AgentID); !ok {
				return true
			}
		}
		if gw == nil {
			return s.fail("No agent selected")
		}
		select {
		case s.queue <- queuedCommand{id: m.ID, command: in.Command, gw: gw}:
		default:
			return s.fail("Too many commands are waiting; wait for their output")
		}
	}
	return true
}

// reach checks that the session may use gatewayID's agent (audited) and
// that the agent is connected here; it answers the refusal itself.
func (s *adminSocket) reach(ctx context.Context, gatewayID string) (*gateway.Gateway, bool) {
	gw, err := s.h.Remote.OpenSession(ctx, s.p, s.src, gatewayID)
	switch {
	case fault.Is(err, fault.NotFound):
		s.fail("Agent not found or disconnected")
	case err != nil:
		s.fail(s.message(err))
	case s.h.Channel.agents.link(gw.ID) == nil:
		s.fail(s.message(notConnected(gw.ID)))
	default:
		return gw, true
	}
	return nil, false
}

// work runs the queued commands one after the other until ctx ends.
func (s *adminSocket) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-s.queue:
			s.runCommand(ctx, c)
		}
	}
}

// runCommand audits one command, sends it to its agent and passes the
// agent's output on, ending with a done frame that carries the exit code.
func (s *adminSocket) runCommand(ctx context.Context, c queuedCommand) {
	if err := s.h.Remote.SessionCommand(ctx, s.src, c.gw, c.command); err != nil {
		s.fail(s.message(err))
		return
	}
	link := s.h.Channel.agents.link(c.gw.ID)
	if link == nil {
		s.fail(s.message(notConnected(c.gw.ID)))
		return
	}
	cctx, cancel := context.WithTimeout(ctx, sessionCommandWithin)
	defer cancel()
	code, err := link.exec(cctx, commandID("cmd-"), c.command, 0, func(o agentOutput) {
		agentWrite(s.ws, agentMsgOutput, c.id, adminOutput{Output: o.Output, IsStderr: o.IsStderr, AgentStderr: o.IsStderr})
	})
	if err != nil {
		s.fail(s.message(err))
		return
	}
	agentWrite(s.ws, agentMsgOutput, c.id, adminOutput{Done: true, ExitCode: &code, AgentExitCode: &code})
}

// sendAgents sends the agents the caller may reach.
func (s *adminSocket) sendAgents(ctx context.Context) bool {
	agents, err := s.h.adminAgents(ctx, s.p)
	if err != nil {
		return s.fail(s.message(err))
	}
	return agentWrite(s.ws, adminMsgAgentList, "", map[string]any{"agents": agents})
}

// fail sends an error frame; false when the socket failed.
func (s *adminSocket) fail(msg string) bool {
	return agentWrite(s.ws, agentMsgError, "", adminError{Message: msg})
}

// message is what the administrator is told of err: a fault's own
// message; an internal error is logged, not shown.
func (s *adminSocket) message(err error) string {
	if f := fault.As(err); f != nil && f.Code != fault.Internal {
		return f.Message
	}
	s.h.Channel.log().Error("remote session", "actor", s.src.Actor, "error", err)
	return "internal error"
}
