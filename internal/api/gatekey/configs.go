package gatekey

import (
	"context"
	"net/http"
	"strconv"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
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

// generateConfig answers the seed's plain {config_id, download_url, expires_at},
// with the same under the names the gatekey client reads (id, downloadUrl,
// fileName).
func (h *Handlers) generateConfig(w http.ResponseWriter, r *http.Request) {
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
	api.WriteJSON(w, http.StatusOK, generatedJSON{
		ConfigID: g.Config.ID, DownloadURL: g.DownloadURL, ExpiresAt: timestamp(g.Config.ExpiresAt),
		ID: g.Config.ID, DownloadURLCamel: g.DownloadURL, FileName: g.FileName,
	})
}

// downloadConfig sends the profile as an attachment. It holds a private key, so
// no cache may keep it.
func (h *Handlers) downloadConfig(w http.ResponseWriter, r *http.Request) {
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

// adminConfigs pages through the configurations the administrator may see, newest
// first; user_id and gateway_id narrow it.
func (h *Handlers) adminConfigs(w http.ResponseWriter, r *http.Request) {
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
	out := make([]configJSON, len(list))
	for i, c := range list {
		out[i] = configOf(c, now)
	}
	writeList(w, r, "configs", out, total, page, perPage)
}

// revokeConfig revokes a configuration and its certificate; the body
// {"reason": "keyCompromise"} is optional.
// revocationReason is the optional body's {"reason"} of a configuration
// revocation: an RFC 5280 name, "" when there is no body.
func revocationReason(r *http.Request) (string, error) {
	var in struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := api.Decode(r, &in); err != nil {
			return "", err
		}
	}
	return in.Reason, nil
}

func (h *Handlers) revokeConfig(w http.ResponseWriter, r *http.Request) {
	reason, err := revocationReason(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	c, err := h.Configs.Revoke(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("config_id"), reason)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, configOf(c, h.now()))
}
