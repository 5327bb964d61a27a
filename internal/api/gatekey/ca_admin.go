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
	"netkeep/internal/pki"
)

// gatekey-admin's CA commands (ca show, list, rotate, activate, revoke) on
// the caller's group's CAs: the server-wide CA it starts with and those it
// rotated in (pki/rotation.go says what each step does). Reads need an
// administrator; changes need pki:write on the group.

// caJSON is a CA as gatekey-admin decodes it: is_active is "trusted" (the
// group's bundles carry it), is_current "issues the group's new
// certificates". status, fingerprint, scope and certificate are netkeep's.
type caJSON struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Status       string  `json:"status"` // pending, current, retired, revoked or expired
	IsActive     bool    `json:"is_active"`
	IsCurrent    bool    `json:"is_current"`
	Scope        string  `json:"scope"` // "group" (the group's own) or "server" (server-wide)
	Subject      string  `json:"subject"`
	SerialNumber string  `json:"serial_number"`
	Fingerprint  string  `json:"fingerprint"`
	NotBefore    string  `json:"not_before"`
	NotAfter     string  `json:"not_after"`
	CreatedAt    string  `json:"created_at"`
	ActivatedAt  *string `json:"activated_at"`
	RevokedAt    *string `json:"revoked_at"`
	Certificate  string  `json:"certificate"` // PEM
	CRLURL       string  `json:"crl_url"`     // this CA's CRL (DER); add .pem for PEM
}

func caOf(c *pki.GroupCA) caJSON {
	scope := "group"
	if c.GroupID == 0 {
		scope = "server"
	}
	id := strconv.FormatInt(c.ID, 10)
	return caJSON{ID: id, Name: c.Name, Status: string(c.State), IsActive: c.State.Trusted(),
		IsCurrent: c.State == pki.StateCurrent, Scope: scope, Subject: c.Certificate.Subject.String(),
		SerialNumber: c.Certificate.SerialNumber.Text(16), Fingerprint: c.Fingerprint,
		NotBefore: timestamp(c.Certificate.NotBefore), NotAfter: timestamp(c.Certificate.NotAfter),
		CreatedAt: timestamp(c.CreatedAt), ActivatedAt: optionalTime(c.ActivatedAt), RevokedAt: optionalTime(c.RevokedAt),
		Certificate: string(c.PEM), CRLURL: "/api/v1/pki/cas/" + id + "/crl"}
}

// groupCAs lists the caller's group's CAs, administrators only.
func (h *Handlers) groupCAs(r *http.Request) ([]*pki.GroupCA, error) {
	return h.PKI.GroupCAsAsAdmin(r.Context(), api.PrincipalFrom(r.Context()))
}

// adminCA is "ca show": the CA that issues the group's certificates.
func (h *Handlers) adminCA(w http.ResponseWriter, r *http.Request) {
	cas, err := h.groupCAs(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	for _, c := range cas {
		if c.State == pki.StateCurrent {
			writeData(w, r, http.StatusOK, caOf(c))
			return
		}
	}
	api.Error(w, r, errNoIssuer)
}

var errNoIssuer = fault.New(fault.Unavailable, "the group's certificate authority has expired; rotate it")

// adminCAs is "ca list": every CA of the group, oldest first, revoked and
// expired ones included.
func (h *Handlers) adminCAs(w http.ResponseWriter, r *http.Request) {
	cas, err := h.groupCAs(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writePage(w, r, "cas", cas, caOf)
}

// rotateCARequest is "ca rotate": both optional.
type rotateCARequest struct {
	Name          string `json:"name"`
	ValidityYears int    `json:"validity_years"`
}

// rotateCA adds a pending CA to the group: trusted at once, issuing after
// activation. 201 with the CA.
func (h *Handlers) rotateCA(w http.ResponseWriter, r *http.Request) {
	var in rotateCARequest
	if r.ContentLength != 0 {
		if err := api.Decode(r, &in); err != nil {
			api.Error(w, r, err)
			return
		}
	}
	if in.ValidityYears < 0 || in.ValidityYears > 30 {
		api.Error(w, r, fault.New(fault.Invalid, "validity_years must lie between 1 and 30").
			WithDetails(map[string]any{"field": "validity_years"}))
		return
	}
	c, err := h.PKI.Rotate(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), pki.RotateRequest{
		Name: in.Name, Validity: time.Duration(in.ValidityYears) * 365 * 24 * time.Hour})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusCreated, caOf(c))
}

// activateCA makes the CA the group's issuer; the previous one stays
// trusted.
func (h *Handlers) activateCA(w http.ResponseWriter, r *http.Request) {
	h.changeCA(w, r, h.PKI.Activate)
}

// revokeCA removes the CA from the group's trust and revokes what it issued
// to the group.
func (h *Handlers) revokeCA(w http.ResponseWriter, r *http.Request) {
	h.changeCA(w, r, h.PKI.RevokeCA)
}

// caChange is an activation or a revocation of one of the caller's
// group's CAs.
type caChange func(ctx context.Context, p *authz.Principal, src audit.Source, id int64) (*pki.GroupCA, error)

func (h *Handlers) changeCA(w http.ResponseWriter, r *http.Request, change caChange) {
	id, err := pki.ParseCAID(r.PathValue("id"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	c, err := change(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeData(w, r, http.StatusOK, caOf(c))
}
