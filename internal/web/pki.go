package web

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"time"

	"netkeep/internal/pki"
)

// PKI: the CA's identity, the certificates it revoked (read from its
// current CRL), with links to the API's own downloads of the CA and the
// CRL. All of it is public in the API too (gateways and openssl fetch the
// CA and CRL without credentials).

type pkiView struct {
	CA      *pki.CA
	CRL     *pki.RevocationList
	Revoked []revokedCert
}

type revokedCert struct {
	Serial string
	At     time.Time
	Reason int
}

func (h *Handlers) pkiPage(w http.ResponseWriter, r *http.Request) {
	ca, err := h.PKI.CA()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	crl, err := h.PKI.CRL()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := pkiView{CA: ca, CRL: crl}
	parsed, err := x509.ParseRevocationList(crl.DER)
	if err != nil {
		h.fail(w, r, fmt.Errorf("parsing the CRL: %w", err))
		return
	}
	for _, e := range parsed.RevokedCertificateEntries {
		v.Revoked = append(v.Revoked, revokedCert{Serial: fmt.Sprintf("%x", e.SerialNumber), At: e.RevocationTime, Reason: e.ReasonCode})
	}
	h.render(w, r, http.StatusOK, "pki", &view{Title: "PKI", Section: "pki", Data: v})
}
