package nekzus

import (
	"context"
	"net/http"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/tlscert"
)

// Certificates is what the certificate handlers need of the HTTPS
// certificates (SUPER_ADMIN only).
type Certificates interface {
	Generate(ctx context.Context, p *authz.Principal, src audit.Source, req tlscert.GenerateRequest) (*tlscert.Certificate, error)
	List(ctx context.Context, p *authz.Principal) ([]*tlscert.Certificate, error)
	Get(ctx context.Context, p *authz.Principal, domain string) (*tlscert.Certificate, error)
	Delete(ctx context.Context, p *authz.Principal, src audit.Source, domain string) error
	Suggest(ctx context.Context, p *authz.Principal) ([]string, error)
	// Serving reports whether an HTTPS listener serves the certificates.
	Serving() bool
}

// certificateJSON is a certificate as GET /api/v1/certificates lists it.
type certificateJSON struct {
	Domain        string    `json:"domain"`
	Issuer        string    `json:"issuer"`
	Provider      string    `json:"provider"`
	NotBefore     time.Time `json:"not_before"`
	NotAfter      time.Time `json:"not_after"`
	SANs          []string  `json:"sans"`
	Fingerprint   string    `json:"fingerprint"`
	Serial        string    `json:"serial"`
	ExpiresInDays int       `json:"expires_in_days"`
}

func viewCertificate(c *tlscert.Certificate, now time.Time) certificateJSON {
	return certificateJSON{Domain: c.Domain, Issuer: c.Issuer, Provider: string(c.Provider), NotBefore: c.NotBefore,
		NotAfter: c.NotAfter, SANs: c.SANs, Fingerprint: c.Fingerprint, Serial: c.Serial, ExpiresInDays: c.ExpiresInDays(now)}
}

// generatedJSON is POST /api/v1/certificates/generate's answer.
type generatedJSON struct {
	Success     bool            `json:"success"`
	Certificate certificateJSON `json:"certificate"`
	TLSUpgraded bool            `json:"tls_upgraded"`
}

// certificateListJSON is GET /api/v1/certificates.
type certificateListJSON struct {
	Certificates []certificateJSON `json:"certificates"`
	Count        int               `json:"count"`
}

// suggestionsJSON is GET /api/v1/certificates/suggest.
type suggestionsJSON struct {
	Suggestions []string `json:"suggestions"`
	Count       int      `json:"count"`
}

// generateRequest is POST /api/v1/certificates/generate's body.
type generateRequest struct {
	Domains  []string         `json:"domains"`
	Provider tlscert.Provider `json:"provider"`
}

func (h *Handlers) generateCertificate(w http.ResponseWriter, r *http.Request) {
	var in generateRequest
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	c, err := h.Certificates.Generate(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r),
		tlscert.GenerateRequest{Domains: in.Domains, Provider: in.Provider})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, generatedJSON{Success: true, Certificate: viewCertificate(c, time.Now()),
		TLSUpgraded: h.Certificates.Serving()})
}

func (h *Handlers) listCertificates(w http.ResponseWriter, r *http.Request) {
	cs, err := h.Certificates.List(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	now := time.Now()
	out := certificateListJSON{Certificates: make([]certificateJSON, 0, len(cs)), Count: len(cs)}
	for _, c := range cs {
		out.Certificates = append(out.Certificates, viewCertificate(c, now))
	}
	api.WriteJSON(w, http.StatusOK, out)
}

func (h *Handlers) suggestCertificateDomains(w http.ResponseWriter, r *http.Request) {
	names, err := h.Certificates.Suggest(r.Context(), api.PrincipalFrom(r.Context()))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, suggestionsJSON{Suggestions: names, Count: len(names)})
}

func (h *Handlers) getCertificate(w http.ResponseWriter, r *http.Request) {
	c, err := h.Certificates.Get(r.Context(), api.PrincipalFrom(r.Context()), r.PathValue("domain"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, viewCertificate(c, time.Now()))
}

func (h *Handlers) deleteCertificate(w http.ResponseWriter, r *http.Request) {
	if err := h.Certificates.Delete(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), r.PathValue("domain")); err != nil {
		api.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
