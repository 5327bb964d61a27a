package netkey

import (
	"context"
	"net/http"
	"strconv"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/radius/nas"
)

// RadiusClients is what the RADIUS handlers need of the nas domain.
type RadiusClients interface {
	List(ctx context.Context, p *authz.Principal) ([]*nas.Client, error)
	Get(ctx context.Context, p *authz.Principal, id int64) (*nas.Client, error)
	Create(ctx context.Context, p *authz.Principal, src audit.Source, in nas.NewClient) (*nas.Client, error)
	Update(ctx context.Context, p *authz.Principal, src audit.Source, id int64, patch nas.Patch) (*nas.Client, error)
	Delete(ctx context.Context, p *authz.Principal, src audit.Source, id int64) error
	Sessions(ctx context.Context, p *authz.Principal, f nas.SessionFilter) ([]*nas.Session, int, error)
	Disconnect(ctx context.Context, p *authz.Principal, src audit.Source, f nas.SessionFilter) ([]nas.DisconnectResult, error)
}

// daeJSON is the dynamic authorization settings of a client, as sent.
type daeJSON struct {
	Mode    *string `json:"dae_mode"`
	Port    *int    `json:"dae_port"`
	Address *string `json:"dae_address"`
}

func (d daeJSON) settings() nas.NewDAE {
	return nas.NewDAE{Mode: d.Mode, Port: d.Port, Address: d.Address}
}

// radiusClientID parses {id}; a malformed id names no client.
func radiusClientID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, nas.NotFound(0)
	}
	return id, nil
}

func (h *Handlers) listClients(w http.ResponseWriter, r *http.Request) {
	cs, err := h.Clients.List(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := radiusClientList{Clients: make([]radiusClientResponse, 0, len(cs)), Total: len(cs)}
	for _, c := range cs {
		out.Clients = append(out.Clients, radiusClientJSON(c))
	}
	api.WriteJSON(w, http.StatusOK, out)
}

func (h *Handlers) getClient(w http.ResponseWriter, r *http.Request) {
	id, err := radiusClientID(r)
	if err == nil {
		var c *nas.Client
		if c, err = h.Clients.Get(r.Context(), api.PrincipalFrom(r.Context()), id); err == nil {
			api.WriteJSON(w, http.StatusOK, radiusClientJSON(c))
			return
		}
	}
	api.Error(w, r, err)
}

func (h *Handlers) createClient(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name                        string     `json:"name"`
		Address                     string     `json:"address"`
		Secret                      string     `json:"secret"`
		Vendor                      nas.Vendor `json:"vendor"`
		RequireMessageAuthenticator *bool      `json:"require_message_authenticator"`
		GroupID                     int64      `json:"group_id"`
		SSIDs                       []string   `json:"ssids"`
		MACAuthPassword             *string    `json:"mac_auth_password"`
		daeJSON
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	c, err := h.Clients.Create(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), nas.NewClient{
		GroupID: in.GroupID, Name: in.Name, Address: in.Address, Secret: in.Secret, Vendor: in.Vendor,
		RequireMessageAuthenticator: in.RequireMessageAuthenticator, SSIDs: in.SSIDs,
		MACAuthPassword: in.MACAuthPassword, DAE: in.settings(),
	})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, radiusClientJSON(c))
}

func (h *Handlers) updateClient(w http.ResponseWriter, r *http.Request) {
	id, err := radiusClientID(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	var in struct {
		Name                        *string     `json:"name"`
		Address                     *string     `json:"address"`
		Secret                      *string     `json:"secret"`
		Vendor                      *nas.Vendor `json:"vendor"`
		RequireMessageAuthenticator *bool       `json:"require_message_authenticator"`
		SSIDs                       *[]string   `json:"ssids"`
		MACAuthPassword             *string     `json:"mac_auth_password"`
		daeJSON
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	c, err := h.Clients.Update(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id, nas.Patch{
		Name: in.Name, Address: in.Address, Secret: in.Secret, Vendor: in.Vendor,
		RequireMessageAuthenticator: in.RequireMessageAuthenticator, SSIDs: in.SSIDs,
		MACAuthPassword: in.MACAuthPassword, DAE: in.settings(),
	})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, radiusClientJSON(c))
}

func (h *Handlers) deleteClient(w http.ResponseWriter, r *http.Request) {
	id, err := radiusClientID(r)
	if err == nil {
		err = h.Clients.Delete(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id)
	}
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, radiusClientDeleted{Success: true, DeletedID: id})
}

// listSessions is the accounting view: ?limit (default 100, max 1000),
// offset, client_id and mac (any common form) filters.
func (h *Handlers) listSessions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := nas.SessionFilter{}
	var err error
	if f.Limit, err = api.IntParam(q.Get("limit"), 100, 1, 1000); err != nil {
		api.Error(w, r, invalidField("limit", "limit must be 1..1000"))
		return
	}
	if f.Offset, err = api.IntParam(q.Get("offset"), 0, 0, 1<<31-1); err != nil {
		api.Error(w, r, invalidField("offset", "offset must be a non-negative integer"))
		return
	}
	if v := q.Get("client_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			api.Error(w, r, invalidField("client_id", "client_id must be a positive integer"))
			return
		}
		f.ClientID = n
	}
	if v := q.Get("mac"); v != "" {
		m, ok := radiusMAC(v)
		if !ok {
			api.Error(w, r, invalidField("mac", "mac is not a MAC address"))
			return
		}
		f.MAC = m
	}
	sessions, total, err := h.Clients.Sessions(r.Context(), api.PrincipalFrom(r.Context()), f)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	out := radiusSessionList{Sessions: make([]radiusSessionResponse, 0, len(sessions)), Total: total}
	for _, s := range sessions {
		out.Sessions = append(out.Sessions, radiusSessionJSON(s))
	}
	api.WriteJSON(w, http.StatusOK, out)
}

// disconnectSessions asks the NASes to end a station's online sessions
// (RFC 5176): {"mac"} for every session of the station, or {"client_id",
// "session_id"} for one. It answers when every NAS answered or timed out,
// with each session's outcome.
func (h *Handlers) disconnectSessions(w http.ResponseWriter, r *http.Request) {
	var in struct {
		MAC       string `json:"mac"`
		ClientID  int64  `json:"client_id"`
		SessionID string `json:"session_id"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	f := nas.SessionFilter{ClientID: in.ClientID, SessionID: in.SessionID}
	switch {
	case in.MAC != "":
		m, ok := radiusMAC(in.MAC)
		if !ok {
			api.Error(w, r, invalidField("mac", "mac is not a MAC address"))
			return
		}
		f.MAC = m
	case in.ClientID < 1 || in.SessionID == "":
		api.Error(w, r, invalidField("mac", "mac, or client_id and session_id, are required"))
		return
	}
	rs, err := h.Clients.Disconnect(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), f)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, radiusDisconnectJSON(rs))
}
