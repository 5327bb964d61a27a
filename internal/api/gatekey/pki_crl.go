package gatekey

import (
	"net/http"
	"strconv"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/pki"
)

// servedCRL is one CRL with its response headers built once, so serving it
// is a header map fill and one write of a shared byte slice.
type servedCRL struct {
	list         *pki.RevocationList
	derETag      []string
	pemETag      []string
	derLength    []string
	pemLength    []string
	lastModified []string
}

// Header values shared by every CRL response; never modified.
var (
	crlDERType   = []string{"application/pkix-crl"}
	crlPEMType   = []string{"application/x-pem-file"}
	crlCacheCtrl = []string{"no-cache"} // revalidate (cheaply, by ETag): a revocation must show at once
)

// servedFor returns the headers of the server-wide CA's CRL l, building
// them when the CRL changed.
func (h *Handlers) servedFor(l *pki.RevocationList) *servedCRL {
	if s := h.served.Load(); s != nil && s.list == l {
		return s
	}
	s := newServedCRL(l)
	h.served.Store(s)
	return s
}

func newServedCRL(l *pki.RevocationList) *servedCRL {
	tag := `"crl-` + strconv.FormatInt(l.AuthorityID, 10) + "-" + strconv.FormatInt(l.Number, 10)
	return &servedCRL{
		list:         l,
		derETag:      []string{tag + `"`},
		pemETag:      []string{tag + `-pem"`},
		derLength:    []string{strconv.Itoa(len(l.DER))},
		pemLength:    []string{strconv.Itoa(len(l.PEM))},
		lastModified: []string{l.ThisUpdate.UTC().Format(http.TimeFormat)},
	}
}

func (h *Handlers) crlDER(w http.ResponseWriter, r *http.Request) { h.serveCRL(w, r, false) }
func (h *Handlers) crlPEM(w http.ResponseWriter, r *http.Request) { h.serveCRL(w, r, true) }

// serveCRL writes the server-wide CA's cached CRL as DER or PEM.
func (h *Handlers) serveCRL(w http.ResponseWriter, r *http.Request, asPEM bool) {
	l, err := h.PKI.CRL()
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeCRL(w, r, l, h.servedFor(l), asPEM)
}

func (h *Handlers) caCRLDER(w http.ResponseWriter, r *http.Request) { h.serveCRLOf(w, r, false) }
func (h *Handlers) caCRLPEM(w http.ResponseWriter, r *http.Request) { h.serveCRLOf(w, r, true) }

// serveCRLOf writes the CRL of the CA in the path, any CA in service: a
// rotated CA signs its own. Public, as the server-wide one.
func (h *Handlers) serveCRLOf(w http.ResponseWriter, r *http.Request, asPEM bool) {
	id, err := pki.ParseCAID(r.PathValue("id"))
	if err != nil {
		api.Error(w, r, err)
		return
	}
	l, err := h.PKI.CRLOf(id)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	writeCRL(w, r, l, newServedCRL(l), asPEM)
}

// writeCRL writes l as DER or PEM, answering 304 to a conditional request
// for the version the client has.
func writeCRL(w http.ResponseWriter, r *http.Request, l *pki.RevocationList, s *servedCRL, asPEM bool) {
	body, ctype, etag, length := l.DER, crlDERType, s.derETag, s.derLength
	if asPEM {
		body, ctype, etag, length = l.PEM, crlPEMType, s.pemETag, s.pemLength
	}
	hdr := w.Header()
	hdr["Etag"] = etag
	hdr["Last-Modified"] = s.lastModified
	hdr["Cache-Control"] = crlCacheCtrl
	if notModified(r, etag[0], l.ThisUpdate) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr["Content-Type"] = ctype
	hdr["Content-Length"] = length
	_, _ = w.Write(body)
}

// notModified applies If-None-Match (which wins when present) and
// If-Modified-Since.
func notModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		return etagMatches(inm, etag)
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !modified.Truncate(time.Second).After(t)
	}
	return false
}

// etagMatches reports whether the If-None-Match list names etag (weak
// comparison, as RFC 9110 prescribes for If-None-Match) or is "*".
func etagMatches(list, etag string) bool {
	for len(list) > 0 {
		for len(list) > 0 && (list[0] == ' ' || list[0] == '\t' || list[0] == ',') {
			list = list[1:]
		}
		if len(list) > 0 && list[0] == '*' {
			return true
		}
		if len(list) >= 2 && list[:2] == "W/" {
			list = list[2:]
		}
		end := len(list)
		for i := 0; i < len(list); i++ {
			if list[i] == ',' {
				end = i
				break
			}
		}
		tag := list[:end]
		for len(tag) > 0 && (tag[len(tag)-1] == ' ' || tag[len(tag)-1] == '\t') {
			tag = tag[:len(tag)-1]
		}
		if tag == etag {
			return true
		}
		list = list[end:]
	}
	return false
}
