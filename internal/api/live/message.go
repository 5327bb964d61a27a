package live

import (
	"encoding/json"
	"strings"
	"time"

	"netkeep/internal/activity"
	"netkeep/internal/authz"
	"netkeep/internal/automation"
	"netkeep/internal/catalog"
	"netkeep/internal/container"
	"netkeep/internal/event"
	"netkeep/internal/toolbox"
)

// The message types of the Nekzus stream that netkeep sends or accepts.
const (
	TypeAuth          = "auth"
	TypeAuthSuccess   = "auth_success"
	TypeAuthFailed    = "auth_failed"
	TypeHello         = "hello"
	TypePing          = "ping"
	TypePong          = "pong"
	TypeDiscovery     = "discovery"
	TypeConfigReload  = "config_reload"
	TypeDevicePaired  = "device_paired"
	TypeDeviceRevoked = "device_revoked"
	TypeHealthChange  = "health_change"
	TypeWebhook       = "webhook"
	// TypeScriptOutput and TypeScriptEnded are netkeep's own (the seed
	// documents none for scripts): a running execution's output, in
	// pieces numbered by seq, and its end.
	TypeScriptOutput = "script.output"
	TypeScriptEnded  = "script.ended"
)

// The event topics that carry Nekzus's own message types besides the app
// catalog's (catalog.TopicDiscovery, and catalog.TopicApp whose
// health_change action is a message type): the device facet publishes
// TopicDevice ("paired", "revoked"), webhooks activity.TopicWebhook, a
// configuration reload (SIGHUP, server.Reload) TopicConfig ("reloaded"),
// and container operations TopicContainer (the action is the message type).
const (
	TopicDevice    = "device"
	TopicConfig    = "config"
	TopicContainer = container.Topic
)

// Message is one message on the stream.
type Message struct {
	Type      string    `json:"type"`
	Data      any       `json:"data"`
	Timestamp time.Time `json:"timestamp"`
}

// encode marshals m; the types sent here always marshal.
func encode(typ string, data any, at time.Time) []byte {
	b, err := json.Marshal(Message{Type: typ, Data: data, Timestamp: at.UTC()})
	if err != nil {
		b, _ = json.Marshal(Message{Type: typ, Data: map[string]any{}, Timestamp: at.UTC()})
	}
	return b
}

// domainTopics are netkeep's own facets' topics and the read permission a
// socket needs to be told of their changes. Topics not listed here (user
// sessions, the bus's own) are never sent.
var domainTopics = map[string]authz.Action{
	catalog.TopicApp: "apps:read",
	"psk":            "psks:read",
	"endpoint":       "endpoints:read",
	"user":           "users:read",
	"group":          "groups:read",
	"network":        "networks:read",
	"node":           "nodes:read",
	"gateway":        "gateways:read",
	"pki":            "pki:read",
	"radius_client":  "radius:read",
	"apikey":         "apikeys:manage",
}

// delivery is what an event becomes on the stream: the encoded message, the
// permission a recipient needs on the event's group, and for targeted
// messages the devices that receive it (nil: every permitted socket).
type delivery struct {
	msg     []byte
	action  authz.Action
	devices map[string]bool
	// notDevices keeps the message from device sockets: device_revoked
	// reaches the revoked device alone (revoke sends it), since an app
	// that took another device's revocation for its own would unpair
	// itself; users and keys watching the group still see it.
	notDevices bool
	// server marks server-wide content (script output, container
	// operations, toolbox deployments): only super principals permitted
	// the action receive it.
	server bool
	// ownOnly keeps the message to the replica that published it: health
	// is each replica's own view (every replica checks every upstream),
	// so a socket hears the changes of the view its replica's API shows,
	// once, not one per replica.
	ownOnly bool
}

// translate turns a committed change into its message, or reports that the
// event is not for the stream. Domain events carry only what changed (id,
// action, group): clients fetch the object through the API with their own
// rights, so no field of the event's Data is ever exposed by accident.
func translate(e event.Event) (delivery, bool) {
	switch e.Topic {
	case TopicDevice:
		return deviceMessage(e), true
	case activity.TopicWebhook:
		var d activity.Push
		if err := json.Unmarshal(e.Data, &d); err != nil || len(d.Payload) == 0 {
			return delivery{}, false // too large for NOTIFY, or malformed: nothing to push
		}
		out := delivery{msg: encode(TypeWebhook, d.Payload, e.Time), action: "devices:read"}
		if len(d.DeviceIDs) > 0 {
			out.devices = make(map[string]bool, len(d.DeviceIDs))
			for _, id := range d.DeviceIDs {
				out.devices[id] = true
			}
		}
		return out, true
	case catalog.TopicDiscovery: // data: the proposal, as the catalog published it
		return delivery{msg: encode(TypeDiscovery, raw(e.Data), e.Time), action: "apps:read"}, true
	case catalog.TopicApp:
		if e.Action == catalog.ActionHealthChange {
			return delivery{msg: encode(TypeHealthChange, raw(e.Data), e.Time), action: "apps:read", ownOnly: true}, true
		}
	case TopicConfig:
		return delivery{msg: encode(TypeConfigReload, map[string]string{"message": "Configuration reloaded"}, e.Time),
			action: "apps:read"}, true
	case automation.TopicExecution: // data: automation.OutputChunk or ExecutionEnded
		if len(e.Data) == 0 {
			return delivery{}, false // too large for NOTIFY: the execution keeps the output
		}
		typ := TypeScriptOutput
		if e.Action == automation.ActionEnded {
			typ = TypeScriptEnded
		}
		return delivery{msg: encode(typ, e.Data, e.Time), action: "scripts:read", server: true}, true
	case TopicContainer: // the action is the documented type, e.g. "container.start.completed"
		// Every replica watches the engine's events itself: a state change
		// reaches the sockets of the replica that saw it, once.
		return delivery{msg: encode(e.Action, raw(e.Data), e.Time), action: container.ActRead, server: true,
			ownOnly: e.Action == container.TypeState}, true
	case toolbox.Topic: // netkeep's own types, "toolbox.deployment.completed" etc. (the seed documents none)
		return delivery{msg: encode(e.Action, raw(e.Data), e.Time), action: "toolbox:read", server: true}, true
	}
	action, ok := domainTopics[e.Topic]
	if !ok {
		return delivery{}, false
	}
	typ := e.Action
	if !strings.HasPrefix(typ, e.Topic+".") {
		typ = e.Topic + "." + e.Action // "psk.created"; gateway actions already say "gateway.created"
	}
	return delivery{msg: encode(typ, changeData{ID: e.ID, Topic: e.Topic, Action: e.Action, GroupID: e.GroupID}, e.Time),
		action: action}, true
}

// changeData is the data of a domain change message.
type changeData struct {
	ID      string `json:"id"`
	Topic   string `json:"topic"`
	Action  string `json:"action"`
	GroupID int64  `json:"groupId"`
}

// deviceData is the data of device messages: the id, and on pairing the
// name and platform (device.Paired).
type deviceData struct {
	DeviceID   string `json:"deviceId"`
	DeviceName string `json:"deviceName,omitempty"`
	Platform   string `json:"platform,omitempty"`
	Message    string `json:"message,omitempty"`
}

func deviceMessage(e event.Event) delivery {
	var d deviceData
	_ = json.Unmarshal(e.Data, &d) // optional: the id alone is enough
	d.DeviceID = e.ID
	typ := "device." + e.Action
	switch e.Action {
	case "paired":
		typ = TypeDevicePaired
	case "revoked":
		typ, d.Message = TypeDeviceRevoked, "Device access has been revoked"
	}
	return delivery{msg: encode(typ, d, e.Time), action: "devices:read", notDevices: e.Action == "revoked"}
}

// raw is data as JSON, or an empty object when the event had none.
func raw(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("{}")
	}
	return b
}
