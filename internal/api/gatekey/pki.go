package gatekey

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/pki"
	"netkeep/internal/ratelimit"
)

// PKI is what the PKI handlers need of the certificate authority.
type PKI interface {
	CA() (*pki.CA, error)
	CRL() (*pki.RevocationList, error)
	Check(ctx context.Context, serial string) (*pki.Certificate, error)
	Revoke(ctx context.Context, p *authz.Principal, src audit.Source, serial, reason string) (*pki.Certificate, error)
}

// PKIHandlers serves GateKey's PKI endpoints.
//
// The CA certificate, the CRL and the revocation check are Public: gateways
// and openssl fetch them without credentials, the CRL is public by nature,
// and the check reveals nothing the CRL does not (for revoked serials) while
// unrevoked serials are 128 random bits, so existence cannot be probed.
// Revocation needs pki:write on the certificate's group.
type PKIHandlers struct {
	PKI PKI
	// Limiter holds the admin API's per-user budget (AdminLimit).
	Limiter *ratelimit.Limiter

	served atomic.Pointer[servedCRL] // headers of the CRL last served
}

// Register adds the PKI routes.
func (h *PKIHandlers) Register(rt *api.Router) {
	rt = rt.As(api.GateKey)
	rt.HandleFunc("GET /api/v1/pki/ca.pem", api.Public, h.caPEM)
	rt.HandleFunc("GET /api/v1/pki/crl", api.Public, h.crlDER)
	rt.HandleFunc("GET /api/v1/pki/crl.pem", api.Public, h.crlPEM)
	rt.HandleFunc("GET /api/v1/pki/check/{serial}", api.Public, h.check)
	rt.Handle("POST /api/v1/admin/pki/revoke", api.Authenticated,
		api.LimitPrincipal(h.Limiter, "gatekey-admin", AdminLimit, http.HandlerFunc(h.revoke)))
}

func (h *PKIHandlers) caPEM(w http.ResponseWriter, r *http.Request) {
	ca, err := h.PKI.CA()
	if err != nil {
		api.Error(w, r, err)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/x-pem-file")
	hdr.Set("Content-Length", strconv.Itoa(len(ca.PEM)))
	hdr.Set("Content-Disposition", `attachment; filename="ca.pem"`)
	_, _ = w.Write(ca.PEM)
}

// statusJSON is a certificate's revocation status; revoked_at and reason are
// null while it is not revoked.
func statusJSON(c *pki.Certificate) map[string]any {
	out := map[string]any{"serial": c.Serial, "revoked": c.Revoked(), "revoked_at": nil, "reason": nil}
	if c.RevokedAt != nil {
		out["revoked_at"] = c.RevokedAt.UTC().Format(time.RFC3339)
		out["reason"] = c.Reason
	}
	return out
}

// check answers whether a certificate is revoked; an unknown serial is 404,
// a malformed one 400.
func (h *PKIHandlers) check(w http.ResponseWriter, r *http.Request) {
	c, err := h.PKI.Check(r.Context(), r.PathValue("serial"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, statusJSON(c))
}

// revoke revokes {serial, reason}. Revoking a revoked certificate succeeds
// (200) and reports the first revocation, so retries are safe.
func (h *PKIHandlers) revoke(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Serial string `json:"serial"`
		Reason string `json:"reason"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	c, err := h.PKI.Revoke(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), in.Serial, in.Reason)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, statusJSON(c))
}
