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
	"netkeep/internal/ratelimit"
	"netkeep/internal/vpnconfig"
)

// Configs is what the client-config handlers need of the vpnconfig domain;
// *vpnconfig.Service implements it.
type Configs interface {
	Generate(ctx context.Context, p *authz.Principal, src audit.Source, gatewayID, protocol string) (*vpnconfig.Generated, error)
	Download(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*vpnconfig.File, error)
	List(ctx context.Context, p *authz.Principal, q vpnconfig.Query) ([]*vpnconfig.Config, int, error)
	Revoke(ctx context.Context, p *authz.Principal, src audit.Source, id, reason string) (*vpnconfig.Config, error)
	Peers(ctx context.Context, p *authz.Principal, gatewayID string) (*vpnconfig.PeerSet, error)
}

// ConfigHandlers serves GateKey's client configurations: generation (30 per
// minute per user), download by the generating user until the link
// expires, and the admin listing and revocation (100 per minute per user);
// and to WireGuard gateway agents (X-Gateway-Token) their client peers.
type ConfigHandlers struct {
	Configs Configs
	Agents  AgentAuthenticator
	Limiter *ratelimit.Limiter // may be shared with other families
	Now     func() time.Time   // for a config's status; time.Now when nil
}

// Register adds the routes.
func (h *ConfigHandlers) Register(rt *api.Router) {
	rt = rt.As(api.GateKey)
	rt.Handle("POST /api/v1/configs/generate", api.Authenticated, LimitConfigGeneration(h.Limiter, http.HandlerFunc(h.generate)))
	rt.HandleFunc("GET /api/v1/configs/download/{config_id}", api.Authenticated, h.download)
	rt.Handle("GET /api/v1/admin/configs", api.Authenticated,
		api.LimitPrincipal(h.Limiter, "gatekey-admin", AdminLimit, http.HandlerFunc(h.list)))
	rt.Handle("POST /api/v1/admin/configs/{config_id}/revoke", api.Authenticated,
		api.LimitPrincipal(h.Limiter, "gatekey-admin", AdminLimit, http.HandlerFunc(h.revoke)))
	rt.Handle("POST /api/v1/gateway/wireguard-peers", api.Custom, agentHandler(h.Agents, h.wireGuardPeers))
}

// generate answers the seed's plain {config_id, download_url, expires_at}.
func (h *ConfigHandlers) generate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		GatewayID string `json:"gateway_id"`
		Protocol  string `json:"protocol"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	g, err := h.Configs.Generate(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in.GatewayID, in.Protocol)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"config_id":    g.Config.ID,
		"download_url": g.DownloadURL,
		"expires_at":   timestamp(g.Config.ExpiresAt),
	})
}

// download sends the profile as an attachment. It holds a private key, so
// no cache may keep it.
func (h *ConfigHandlers) download(w http.ResponseWriter, r *http.Request) {
	f, err := h.Configs.Download(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("config_id"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", f.ContentType)
	hdr.Set("Content-Disposition", `attachment; filename="`+f.Name+`"`)
	hdr.Set("Content-Length", strconv.Itoa(len(f.Body)))
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(f.Body)
	clear(f.Body)
}

// list pages through the configurations the administrator may see, newest
// first; user_id and gateway_id narrow it.
func (h *ConfigHandlers) list(w http.ResponseWriter, r *http.Request) {
	page, perPage, err := pageOf(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	q := vpnconfig.Query{GatewayID: r.URL.Query().Get("gateway_id"), Limit: perPage, Offset: (page - 1) * perPage}
	if v := r.URL.Query().Get("user_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			api.Error(w, r, fault.New(fault.Invalid, "user_id must be a positive integer").WithDetails(map[string]any{"field": "user_id"}))
			return
		}
		q.UserID = id
	}
	list, total, err := h.Configs.List(r.Context(), api.PrincipalFrom(r.Context()), q)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	now := h.now()
	out := make([]map[string]any, 0, len(list))
	for _, c := range list {
		out = append(out, configJSON(c, now))
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"data": out,
		"meta": map[string]any{"total": total, "page": page, "per_page": perPage},
	})
}

// revoke revokes a configuration and its certificate; the body
// {"reason": "keyCompromise"} is optional.
func (h *ConfigHandlers) revoke(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := api.Decode(r, &in); err != nil {
			api.Error(w, r, err)
			return
		}
	}
	c, err := h.Configs.Revoke(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("config_id"), in.Reason)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, http.StatusOK, configJSON(c, h.now()))
}

func (h *ConfigHandlers) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// configJSON is a configuration as admins see it: never its key. status is
// active, expired or revoked.
func configJSON(c *vpnconfig.Config, now time.Time) map[string]any {
	status := "active"
	switch {
	case c.Revoked():
		status = "revoked"
	case !now.Before(c.ExpiresAt):
		status = "expired"
	}
	out := map[string]any{
		"id": c.ID, "user_id": c.UserID, "group_id": c.GroupID, "gateway_id": c.GatewayID,
		"protocol": c.Protocol, "serial": c.Serial, "common_name": c.CommonName, "status": status,
		"created_at": timestamp(c.CreatedAt), "expires_at": timestamp(c.ExpiresAt),
		"downloads": c.Downloads, "last_download": nil, "revoked_at": nil,
		"download_url": vpnconfig.DownloadPath(c.ID),
	}
	if c.Protocol == vpnconfig.WireGuard {
		// The public half and the address: what the gateway's peer list
		// shows, never the private key.
		out["serial"] = nil
		out["public_key"], out["address"] = c.WireGuardKey, c.Address.String()
	}
	if c.LastDownload != nil {
		out["last_download"] = timestamp(*c.LastDownload)
	}
	if c.RevokedAt != nil {
		out["revoked_at"] = timestamp(*c.RevokedAt)
	}
	return out
}
