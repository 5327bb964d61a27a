package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"netkeep/internal/api"
	"netkeep/internal/fault"
	"netkeep/internal/psk"
)

// Endpoints: the stations (MAC addresses) bound to PSKs, one at a time or
// from a CSV file checked row by row before anything is written.

type endpointList struct {
	Search     string
	Refresh    string // this page, for live updates
	Page       *psk.EndpointPage
	Offset     int
	Prev, Next string
}

func (h *Handlers) endpointsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := psk.EndpointFilter{Search: strings.TrimSpace(q.Get("search")), Limit: pskPageSize}
	f.Offset, _ = strconv.Atoi(q.Get("offset"))
	f.Offset = max(f.Offset, 0)
	page, err := h.PSKs.ListEndpoints(r.Context(), api.PrincipalFrom(r.Context()), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := endpointList{Search: f.Search, Page: page, Offset: f.Offset}
	link := func(off int) string {
		return "/ui/endpoints?" + url.Values{"search": {f.Search}, "offset": {strconv.Itoa(off)}}.Encode()
	}
	d.Refresh = link(f.Offset)
	if f.Offset > 0 {
		d.Prev = link(max(0, f.Offset-pskPageSize))
	}
	if f.Offset+len(page.Endpoints) < page.Total {
		d.Next = link(f.Offset + pskPageSize)
	}
	h.render(w, r, http.StatusOK, "endpoints", &view{Title: "Endpoints", Section: "endpoints", Flash: flash(r), Data: d})
}

func (h *Handlers) createEndpoint(w http.ResponseWriter, r *http.Request) {
	in := psk.NewEndpoint{MAC: r.PostFormValue("mac"), Description: strings.TrimSpace(r.PostFormValue("description")),
		PSK: psk.PSKRef{Name: strings.TrimSpace(r.PostFormValue("psk"))}}
	if _, err := h.PSKs.CreateEndpoint(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), 0, in); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/ui/endpoints", "Endpoint added.")
}

func (h *Handlers) deleteEndpoint(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		err = h.PSKs.DeleteEndpoint(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/ui/endpoints", "Endpoint deleted.")
}

// importView is the import page's data: the columns, and after an upload
// its preview and the CSV kept in the form for the confirming step.
type importView struct {
	Columns []string
	Preview *psk.ImportPreview
	CSV     string
}

// maxImportForm bounds an import through the dashboard; larger files go
// through POST /api/v1/psks/import.
const maxImportForm = 4 << 20

func (h *Handlers) importPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "import", &view{Title: "Import PSKs and endpoints", Section: "endpoints",
		Data: importView{Columns: psk.ImportColumns}})
}

// importCSV previews an uploaded file (step "preview": every row checked,
// nothing written), or imports the previewed text (step "import": all or
// nothing, as the API's import).
func (h *Handlers) importCSV(w http.ResponseWriter, r *http.Request) {
	p := api.PrincipalFrom(r.Context())
	text := r.PostFormValue("csv")
	if f, _, err := r.FormFile("file"); err == nil {
		var buf bytes.Buffer
		_, err = buf.ReadFrom(http.MaxBytesReader(nil, f, maxImportForm))
		_ = f.Close()
		if err != nil {
			h.fail(w, r, fault.New(fault.TooLarge, "The file is larger than 4 MiB; import it through the API (POST /api/v1/psks/import)."))
			return
		}
		text = buf.String()
	}
	v := importView{Columns: psk.ImportColumns, CSV: text}
	if r.PostFormValue("step") == "import" {
		res, err := h.PSKs.Import(r.Context(), p, api.Source(r), 0, strings.NewReader(text))
		if err != nil {
			h.importFailed(w, r, err, v)
			return
		}
		redirect(w, r, "/ui/endpoints", pathf("Imported %d PSKs and %d endpoints.", res.PSKs, res.Endpoints))
		return
	}
	pv, err := h.PSKs.PreviewImport(r.Context(), p, 0, strings.NewReader(text), 200)
	if err != nil {
		h.importFailed(w, r, err, v)
		return
	}
	v.Preview = pv
	h.render(w, r, http.StatusOK, "import", &view{Title: "Import PSKs and endpoints", Section: "endpoints", Data: v})
}

// importFailed shows the import page again with the domain's message when
// the file is the user's to fix.
func (h *Handlers) importFailed(w http.ResponseWriter, r *http.Request, err error, v importView) {
	msg, ok := formError(err)
	if !ok {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, api.StatusOf(fault.CodeOf(err)), "import", &view{Title: "Import PSKs and endpoints", Section: "endpoints", Error: msg, Data: v})
}
