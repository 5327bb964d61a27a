package gatekey

import (
	"context"
	"net/http"
	"strconv"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/pki"
)

// PKI is what the PKI handlers need of the certificate authority.
type PKI interface {
	CA() (*pki.CA, error)
	CRL() (*pki.RevocationList, error)
	// CRLOf is the CRL of one CA in service (each CA signs its own).
	CRLOf(id int64) (*pki.RevocationList, error)
	// The caller's group's CAs and their rotation (ca_admin.go).
	GroupCAsAsAdmin(ctx context.Context, p *authz.Principal) ([]*pki.GroupCA, error)
	Rotate(ctx context.Context, p *authz.Principal, src audit.Source, req pki.RotateRequest) (*pki.GroupCA, error)
	Activate(ctx context.Context, p *authz.Principal, src audit.Source, id int64) (*pki.GroupCA, error)
	RevokeCA(ctx context.Context, p *authz.Principal, src audit.Source, id int64) (*pki.GroupCA, error)
	Check(ctx context.Context, serial string) (*pki.Certificate, error)
	Revoke(ctx context.Context, p *authz.Principal, src audit.Source, serial, reason string) (*pki.Certificate, error)
}

// The CA certificate, the CRL and the revocation check are Public: gateways
// and openssl fetch them without credentials, the CRL is public by nature,
// and the check reveals nothing the CRL does not (for revoked serials) while
// unrevoked serials are 128 random bits, so existence cannot be probed.
// Revocation needs pki:write on the certificate's group.

func (h *Handlers) caPEM(w http.ResponseWriter, r *http.Request) {
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
type statusJSON struct {
	Serial    string  `json:"serial"`
	Revoked   bool    `json:"revoked"`
	RevokedAt *string `json:"revoked_at"`
	Reason    *string `json:"reason"`
}

func statusOf(c *pki.Certificate) statusJSON {
	out := statusJSON{Serial: string(c.Serial), Revoked: c.Revoked(), RevokedAt: optionalTime(c.RevokedAt)}
	if c.RevokedAt != nil {
		reason := string(c.Reason)
		out.Reason = &reason
	}
	return out
}

// check answers whether a certificate is revoked; an unknown serial is 404,
// a malformed one 400.
func (h *Handlers) check(w http.ResponseWriter, r *http.Request) {
	c, err := h.PKI.Check(r.Context(), r.PathValue("serial"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, statusOf(c))
}

// revokeCertificate revokes {serial, reason}. Revoking a revoked certificate succeeds
// (200) and reports the first revocation, so retries are safe.
func (h *Handlers) revokeCertificate(w http.ResponseWriter, r *http.Request) {
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
	api.WriteJSON(w, http.StatusOK, statusOf(c))
}
