package netkey

import "netkeep/internal/radius/nas"

// radiusClientResponse is a RADIUS client as the API shows it: never its
// shared secret, and of a fixed MAC-authentication password only the word
// "fixed".
type radiusClientResponse struct {
	ID                          int64               `json:"id"`
	Name                        string              `json:"name"`
	Address                     string              `json:"address"`
	Vendor                      nas.Vendor          `json:"vendor"`
	RequireMessageAuthenticator bool                `json:"require_message_authenticator"`
	MACAuthPassword             nas.MACPasswordMode `json:"mac_auth_password"`
	GroupID                     int64               `json:"group_id"`
	SSIDs                       []string            `json:"ssids"`
	DAEMode                     nas.DAEMode         `json:"dae_mode"`
	DAEPort                     int                 `json:"dae_port"`
	DAEAddress                  string              `json:"dae_address"`
	CreatedAt                   string              `json:"created_at"`
	UpdatedAt                   string              `json:"updated_at"`
}

func radiusClientJSON(c *nas.Client) radiusClientResponse {
	ssids := c.SSIDs
	if ssids == nil {
		ssids = []string{}
	}
	mode := c.MACPassword
	if mode == "" {
		mode = nas.MACPasswordMAC
	}
	return radiusClientResponse{
		ID: c.ID, Name: c.Name, Address: c.Address, Vendor: c.Vendor,
		RequireMessageAuthenticator: c.RequireMessageAuthenticator, MACAuthPassword: mode,
		GroupID: c.GroupID, SSIDs: ssids, DAEMode: c.DAE.Mode, DAEPort: c.DAE.Port, DAEAddress: c.DAE.Address,
		CreatedAt: timestamp(c.CreatedAt), UpdatedAt: timestamp(c.UpdatedAt),
	}
}

// radiusClientList is GET /api/v1/radius/clients.
type radiusClientList struct {
	Clients []radiusClientResponse `json:"clients"`
	Total   int                    `json:"total"`
}

// radiusClientDeleted is DELETE /api/v1/radius/clients/{id}, shaped like
// NetKey's documented PSK deletion.
type radiusClientDeleted struct {
	Success   bool  `json:"success"`
	DeletedID int64 `json:"deleted_id"`
}

// radiusSessionResponse is one accounting session.
type radiusSessionResponse struct {
	ClientID        int64  `json:"client_id"`
	GroupID         int64  `json:"group_id"`
	SessionID       string `json:"session_id"`
	MACAddress      string `json:"mac_address"`
	Username        string `json:"username"`
	NASAddress      string `json:"nas_address"`
	CalledStationID string `json:"called_station_id"`
	FramedIP        string `json:"framed_ip"`
	StartedAt       string `json:"started_at"`
	UpdatedAt       string `json:"updated_at"`
	InputOctets     int64  `json:"input_octets"`
	OutputOctets    int64  `json:"output_octets"`
	SessionTime     int64  `json:"session_time"`
}

// radiusSessionList is GET /api/v1/radius/sessions.
type radiusSessionList struct {
	Sessions []radiusSessionResponse `json:"sessions"`
	Total    int                     `json:"total"`
}

func radiusSessionJSON(s *nas.Session) radiusSessionResponse {
	return radiusSessionResponse{
		ClientID: s.ClientID, GroupID: s.GroupID, SessionID: s.SessionID, MACAddress: s.MAC,
		Username: s.Username, NASAddress: s.NASAddress, CalledStationID: s.CalledStation,
		FramedIP: s.FramedIP, StartedAt: timestamp(s.StartedAt), UpdatedAt: timestamp(s.UpdatedAt),
		InputOctets: s.InputOctets, OutputOctets: s.OutputOctets, SessionTime: s.SessionTime,
	}
}

// radiusDisconnectResult is one session's outcome in POST
// /api/v1/radius/sessions/disconnect.
type radiusDisconnectResult struct {
	ClientID   int64          `json:"client_id"`
	SessionID  string         `json:"session_id"`
	MACAddress string         `json:"mac_address"`
	Username   string         `json:"username"`
	Outcome    nas.DAEOutcome `json:"outcome"`
	ErrorCause uint32         `json:"error_cause,omitempty"`
	Attempts   int            `json:"attempts"`
}

// radiusDisconnectList is POST /api/v1/radius/sessions/disconnect.
type radiusDisconnectList struct {
	Results []radiusDisconnectResult `json:"results"`
	Total   int                      `json:"total"`
}

func radiusDisconnectJSON(rs []nas.DisconnectResult) radiusDisconnectList {
	out := radiusDisconnectList{Results: make([]radiusDisconnectResult, 0, len(rs)), Total: len(rs)}
	for _, r := range rs {
		out.Results = append(out.Results, radiusDisconnectResult{
			ClientID: r.Session.ClientID, SessionID: r.Session.SessionID, MACAddress: r.Session.MAC,
			Username: r.Session.Username, Outcome: r.Outcome, ErrorCause: r.ErrorCause, Attempts: r.Attempts,
		})
	}
	return out
}
