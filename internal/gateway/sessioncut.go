package gateway

// ActionSessionCut is the Action of the TopicGateway event published when a
// live VPN session must end now (its certificate was revoked, its user
// offboarded). The event's ID is the gateway id the session runs on and its
// Data a SessionCut: whatever carries the gateway's remote-session channel
// (the agent WebSocket) relays it to that gateway's agent, which kills the
// client. A gateway that is not connected learns it at its next
// client-rules or verify call, which refuse the revoked certificate.
const ActionSessionCut = "session.cut"

// SessionCut names one session to cut on its gateway, by the fields a
// gateway agent knows a client by.
type SessionCut struct {
	SessionID    string `json:"session_id"`
	CommonName   string `json:"common_name"`
	SerialNumber string `json:"serial_number,omitempty"`
	ClientIP     string `json:"client_ip,omitempty"`
	Reason       string `json:"reason,omitempty"`
}
