package gatekey

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
	"netkeep/internal/remote"
)

// GET /ws/agent: the remote-session channel of GateKey's agents
// (gatekey-gateway, gatekey-hub and gatekey-mesh-gateway open it at start
// and reopen it with a growing delay when it drops). Each authenticates
// with its gateway's token: a hub agent (nodeType "hub") with its hub's
// gateway's, a spoke agent ("spoke") with its spoke gateway's
// (gateway.CheckAgentNode decides); each gets the session cuts of its
// gateway. The agent sends its gateway token in its first message,
// not in headers; netkeep uses the channel to relay gateway.ActionSessionCut
// events to the gateway whose session must end, network tool runs and
// administrators' remote sessions (admin_session.go), each as the one
// message the agent acts on: a command it runs on the gateway host.
//
// Every frame is a text message {"type", "id", "payload", "timestamp"}:
//
//	agent → netkeep  auth     {"token", "nodeType", "nodeId", "nodeName"} (first, within AgentAuthWithin)
//	netkeep → agent  auth_response {"success", "message", "agentId"}
//	netkeep → agent  ping     (every AgentPingEvery; the agent answers pong)
//	agent → netkeep  pong     (also sent by the agent every 30 s on its own)
//	netkeep → agent  command  {"command"}: disconnect one client (id "cut-" + session id),
//	                 run a network tool (id "run-" + 16 hex digits) or a remote
//	                 session's command (id "cmd-" + 16 hex digits); one at a time
//	                 (agent_link.go)
//	agent → netkeep  output   {"output", "isStderr", "exitCode", "done"} for that id
//
// A socket that sends nothing for three ping periods is closed, as is the
// socket of a gateway whose token is regenerated or which is deleted.

// Agent channel timing (GateKey's own values).
const (
	// AgentAuthWithin is how long the agent has to send its auth message.
	AgentAuthWithin = 30 * time.Second
	// AgentPingEvery is the keepalive period.
	AgentPingEvery   = 30 * time.Second
	agentWriteWithin = 10 * time.Second
	agentReadLimit   = 64 << 10
)

// The channel's message types, as GateKey's agent names them.
const (
	agentMsgAuth     = "auth"
	agentMsgAuthResp = "auth_response"
	agentMsgPing     = "ping"
	agentMsgPong     = "pong"
	agentMsgCommand  = "command"
	agentMsgOutput   = "output"
	agentMsgError    = "error"
)

// cutIDPrefix starts the id of a session-cut command; the agent's output
// messages carry it back.
const cutIDPrefix = "cut-"

// agentMessage is one frame of the channel.
type agentMessage struct {
	Type      string          `json:"type"`
	ID        string          `json:"id,omitempty"`
	Payload   json.RawMessage `json:"payload,omitempty"`
	Timestamp time.Time       `json:"timestamp"`
}

type agentAuth struct {
	Token    string `json:"token"`
	NodeType string `json:"nodeType"`
	NodeID   string `json:"nodeId"`
	NodeName string `json:"nodeName"`
}

type agentAuthReply struct {
	Success bool   `json:"success"`
	Message string `json:"message,omitempty"`
	AgentID string `json:"agentId,omitempty"`
}

type agentCommand struct {
	Command string `json:"command"`
}

type agentOutput struct {
	Output   string `json:"output"`
	IsStderr bool   `json:"isStderr,omitempty"`
	ExitCode *int   `json:"exitCode,omitempty"`
	Done     bool   `json:"done"`
}

// AgentChannel carries GateKey agents' channels. Bus is where session cuts
// and gateway changes are announced; nil serves no channel (404).
type AgentChannel struct {
	Bus event.Bus
	Log *slog.Logger
	// PingEvery overrides AgentPingEvery (tests); AuthWithin
	// AgentAuthWithin; SessionIdle the admin sessions' SessionIdle.
	PingEvery, AuthWithin, SessionIdle time.Duration

	agents agentRegistry // the channels open now (remote-session agents)
}

func (c *AgentChannel) pingEvery() time.Duration {
	if c.PingEvery > 0 {
		return c.PingEvery
	}
	return AgentPingEvery
}

func (c *AgentChannel) authWithin() time.Duration {
	if c.AuthWithin > 0 {
		return c.AuthWithin
	}
	return AgentAuthWithin
}

func (c *AgentChannel) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.New(slog.DiscardHandler)
}

// agentChannel upgrades GET /ws/agent and runs the channel on a goroutine
// of its own, without the request.
func (h *Handlers) agentChannel(w http.ResponseWriter, r *http.Request) {
	ws, err := api.AcceptSocket(w, r) // the token comes in the first message
	if err != nil {
		return // Accept has answered
	}
	go h.runAgentChannel(ws, api.Source(r))
}

// runAgentChannel serves one socket from its auth message to its end.
func (h *Handlers) runAgentChannel(ws *websocket.Conn, src audit.Source) {
	defer ws.CloseNow()
	ws.SetReadLimit(agentReadLimit)
	c := h.Channel
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, auth, ok := h.agentHandshake(ctx, ws, src)
	if !ok {
		return
	}
	link := newAgentLink(ws)
	defer link.close()
	// Subscribed before the reply, so no cut published after the agent
	// learns it is connected is missed.
	sub := c.Bus.Subscribe(gateway.TopicGateway)
	defer sub.Close()
	// Listed before the reply, so an agent that has been told it is
	// connected is listed (remote-session agents) and reachable.
	defer c.agents.add(connectedAgent{GatewayID: p.Subject, NodeType: auth.NodeType, NodeID: auth.NodeID,
		NodeName: auth.NodeName, Since: time.Now(), link: link})()
	if !agentWrite(ws, agentMsgAuthResp, "", agentAuthReply{Success: true, Message: "Connected", AgentID: p.Subject}) {
		return
	}
	go func() {
		defer cancel()
		h.agentRead(ctx, ws, link)
	}()
	tick := time.NewTicker(c.pingEvery())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if !agentWrite(ws, agentMsgPing, "", nil) {
				return
			}
		case e, open := <-sub.C():
			if !open {
				_ = ws.Close(websocket.StatusGoingAway, "server shutting down")
				return
			}
			if !h.agentRelay(ws, link, p, e) {
				return
			}
		}
	}
}

// agentRelay passes e on to p's agent when it is about p's gateway: a
// session cut as the command that disconnects the client (sent on a
// goroutine of its own, since it may wait for a running command); a new
// token or the gateway's deletion ends the channel. It reports whether the
// channel goes on.
func (h *Handlers) agentRelay(ws *websocket.Conn, link *agentLink, p *authz.Principal, e event.Event) bool {
	if e.Topic != gateway.TopicGateway || e.ID != p.Subject || (e.GroupID != 0 && e.GroupID != p.GroupID) {
		return true
	}
	switch e.Action {
	case gateway.ActionSessionCut:
		var cut gateway.SessionCut
		if err := json.Unmarshal(e.Data, &cut); err != nil {
			h.Channel.log().Warn("gateway session cut without its session", "gateway", p.Subject, "error", err)
			return true
		}
		cmd, ok := cutCommand(cut)
		if !ok {
			h.Channel.log().Warn("gateway session cut names no client the agent can disconnect",
				"gateway", p.Subject, "session", cut.SessionID)
			return true
		}
		go h.agentCut(link, p, cut.SessionID, cmd)
		return true
	case "gateway.token", "gateway.deleted":
		_ = ws.Close(websocket.StatusPolicyViolation, "the gateway token is no longer valid")
		return false
	}
	return true
}

// agentHandshake reads the auth message and authenticates its gateway
// token. It answers a refusal itself; the caller answers success.
func (h *Handlers) agentHandshake(ctx context.Context, ws *websocket.Conn, src audit.Source) (p *authz.Principal, auth agentAuth, ok bool) {
	c := h.Channel
	// A read whose context expires closes the socket without a word, so
	// the timeout is a timer that answers first.
	timer := time.AfterFunc(c.authWithin(), func() {
		agentRefuse(ws, agentMsgError, map[string]string{"message": "timeout waiting for auth message"})
	})
	typ, b, err := ws.Read(ctx)
	if !timer.Stop() || err != nil {
		return nil, auth, false
	}
	var m agentMessage
	if typ != websocket.MessageText || json.Unmarshal(b, &m) != nil || m.Type != agentMsgAuth {
		agentRefuse(ws, agentMsgError, map[string]string{"message": "Expected auth message"})
		return nil, auth, false
	}
	if json.Unmarshal(m.Payload, &auth) != nil {
		agentRefuse(ws, agentMsgError, map[string]string{"message": "Invalid auth payload"})
		return nil, auth, false
	}
	actx, cancel := context.WithTimeout(ctx, c.authWithin())
	defer cancel()
	p, err = h.Gateways.AuthenticateToken(actx, auth.Token)
	if err == nil {
		err = h.Gateways.CheckAgentNode(actx, p, auth.NodeType)
	}
	if fault.Is(err, fault.Forbidden) {
		agentRefuse(ws, agentMsgAuthResp, agentAuthReply{Message: "this token's gateway is no " + auth.NodeType + " node"})
		return nil, auth, false
	}
	if err == nil {
		src.Actor = p.Actor()
		// Only GateKey's agent opens this channel.
		err = h.Gateways.RecordAgent(actx, p, src, gateway.AgentGateKey)
	}
	switch fault.CodeOf(err) {
	case "":
		return p, auth, true
	case fault.Unauthorized, fault.NotFound, fault.Forbidden:
		agentRefuse(ws, agentMsgAuthResp, agentAuthReply{Message: "Invalid token"})
	default:
		c.log().Error("authenticating a gateway agent channel", "error", err)
		agentRefuse(ws, agentMsgAuthResp, agentAuthReply{Message: "authentication failed"})
	}
	return nil, auth, false
}

// agentRead reads the agent's messages until the socket ends or stays
// silent for three ping periods: pongs keep it open; output goes to the
// command it answers; anything else is ignored.
func (h *Handlers) agentRead(ctx context.Context, ws *websocket.Conn, link *agentLink) {
	idle := 3 * h.Channel.pingEvery()
	for {
		rctx, cancel := context.WithTimeout(ctx, idle)
		typ, b, err := ws.Read(rctx)
		cancel()
		if err != nil {
			return
		}
		var m agentMessage
		if typ != websocket.MessageText || json.Unmarshal(b, &m) != nil || m.Type != agentMsgOutput || m.ID == "" {
			continue
		}
		var out agentOutput
		if json.Unmarshal(m.Payload, &out) == nil {
			link.deliver(m.ID, out)
		}
	}
}

// cutWithin bounds how long a session cut waits for the agent's answer.
const cutWithin = 30 * time.Second

// agentCut sends a session cut's command and logs how it ended.
func (h *Handlers) agentCut(link *agentLink, p *authz.Principal, sessionID, cmd string) {
	ctx, cancel := context.WithTimeout(context.Background(), cutWithin)
	defer cancel()
	code, err := link.exec(ctx, cutIDPrefix+sessionID, cmd, cutWait, func(agentOutput) {})
	log := h.Channel.log().With("gateway", p.Subject, "session", sessionID)
	switch {
	case err != nil:
		log.Warn("the gateway agent did not report a client's disconnection", "error", err)
	case code != 0:
		log.Warn("the gateway agent could not disconnect a client", "exit_code", code)
	default:
		log.Info("the gateway agent disconnected a client")
	}
}

// agentWrite sends one message within the write timeout; false when the
// socket failed.
func agentWrite(ws *websocket.Conn, typ, id string, payload any) bool {
	m := agentMessage{Type: typ, ID: id, Timestamp: time.Now().UTC()}
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			return false
		}
		m.Payload = b
	}
	b, err := json.Marshal(m)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), agentWriteWithin)
	defer cancel()
	return ws.Write(ctx, websocket.MessageText, b) == nil
}

// agentRefuse answers a refusal and closes the socket.
func agentRefuse(ws *websocket.Conn, typ string, payload any) {
	agentWrite(ws, typ, "", payload)
	_ = ws.Close(websocket.StatusPolicyViolation, "authentication failed")
}

// AgentManagement is where the command of a session cut reaches the
// gateway's OpenVPN server: its management interface, which the gateway's
// server.conf opens with "management 127.0.0.1 7505" (docs/gatekey-migration.md).
const AgentManagement = "127.0.0.1/7505"

// cutCommand is the shell command that makes the gateway's OpenVPN server
// drop every connection of the session's certificate (management "kill"
// by common name). The agent runs it with /bin/sh -c; the name is passed
// as an argument, never spliced into the script. The script reads the
// management interface's answer before it quits (a "quit" sent with the
// command may close the socket before the answer is written) and exits 0
// on SUCCESS, 1 on ERROR or no answer within 10 s, so the exit code the
// agent reports is the cut's outcome. A name with control characters
// cannot be sent on the management line: no command.
func cutCommand(c gateway.SessionCut) (string, bool) {
	cn := c.CommonName
	if cn == "" || strings.ContainsFunc(cn, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", false
	}
	quoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(cn)
	line := `kill "` + quoted + `"`
	script := "exec 3<>/dev/tcp/" + AgentManagement + ` || exit 1; printf '%s\n' "$1" >&3; ` +
		`while IFS= read -r -t 10 l <&3; do l=${l%$'\r'}; case $l in ` +
		`SUCCESS:*) echo "$l"; printf 'quit\n' >&3; exit 0;; ` +
		`ERROR:*) echo "$l" >&2; printf 'quit\n' >&3; exit 1;; esac; done; ` +
		`echo 'no answer from the management interface' >&2; exit 1`
	return "bash -c " + remote.ShellQuote(script) + " netkeep-session-cut " + remote.ShellQuote(line), true
}
