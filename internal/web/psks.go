package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/psk"
)

// The front desk: guest PSKs created in two fields, shown as a WiFi QR code
// and a printable card, and the searchable list of every PSK of the group.

// pskPageSize is the list's page: small enough that a page of 100,000 PSKs
// renders at once, the search narrowing it down.
const pskPageSize = 50

// pskCountUpTo bounds the count of a filtered list.
const pskCountUpTo = 1000

// pskList is the list page's data. Search matches the start of a name
// or description (an index serves it); Anywhere makes it a substring
// search, which scans the group.
type pskList struct {
	Search, State string
	Anywhere      bool
	Page          *psk.Page
	After         int64  // the page starts after this PSK ID (0: the first page)
	First, Next   string // links to the first and the next page, "" when there is none
	Refresh       string // this page's list alone, for live updates
	More          bool   // Page.Total is a lower bound (pskCountUpTo)
	SSID          string
}

func (h *Handlers) psksPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// A filtered total is counted up to pskCountUpTo: past it the page
	// says "more than", and a filter matching most of 100,000 PSKs costs a
	// page rather than a scan.
	f := psk.Filter{Limit: pskPageSize, CountUpTo: pskCountUpTo}
	anywhere := q.Get("match") == "anywhere"
	if anywhere {
		f.Search = q.Get("search")
	} else {
		f.Prefix = q.Get("search")
	}
	// Keyset paging: a page deep in 100,000 costs what the first does.
	f.AfterID, _ = strconv.ParseInt(q.Get("after"), 10, 64)
	f.AfterID = max(f.AfterID, 0)
	yes, no := true, false
	switch q.Get("state") {
	case "enabled":
		f.Enabled, f.Expired = &yes, &no
	case "disabled":
		f.Enabled = &no
	case "expired":
		f.Expired = &yes
	}
	p := api.PrincipalFrom(r.Context())
	page, err := h.PSKs.List(r.Context(), p, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := pskList{Search: q.Get("search"), Anywhere: anywhere, State: q.Get("state"), Page: page, After: f.AfterID,
		SSID: h.defaultSSID(r.Context(), p)}
	link := func(after int64) string {
		v := url.Values{"search": {d.Search}, "match": {q.Get("match")}, "state": {d.State}}
		if after != 0 {
			v.Set("after", strconv.FormatInt(after, 10))
		}
		return "/ui/psks?" + v.Encode()
	}
	if f.AfterID != 0 {
		d.First = link(0)
	}
	d.Refresh = link(f.AfterID) + "&fragment=list"
	d.More = !f.Unfiltered() && page.Total >= pskCountUpTo
	if len(page.PSKs) == pskPageSize {
		d.Next = link(page.PSKs[len(page.PSKs)-1].ID)
	}
	h.render(w, r, http.StatusOK, "psks", &view{Title: "Guest WiFi and PSKs", Section: "psks", Flash: flash(r), Data: d})
}

// defaultSSID is the first SSID a RADIUS client of the caller's group
// serves: the network a guest QR code joins unless the desk names another.
func (h *Handlers) defaultSSID(ctx context.Context, p *authz.Principal) string {
	clients, err := h.Radius.List(ctx, p)
	if err != nil {
		return ""
	}
	for _, c := range clients {
		if len(c.SSIDs) > 0 {
			return c.SSIDs[0]
		}
	}
	return ""
}

// guestInput reads the guest form: a name (kept as the PSK's description)
// and a validity in hours.
func guestInput(r *http.Request) (psk.NewPSK, error) {
	in := psk.NewPSK{Description: strings.TrimSpace(r.PostFormValue("name"))}
	if v := strings.TrimSpace(r.PostFormValue("hours")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return in, fault.New(fault.Invalid, "Validity must be a whole number of hours, at least 1.")
		}
		in.ExpiresInHours = &n
	}
	return in, nil
}

func (h *Handlers) createGuest(w http.ResponseWriter, r *http.Request) {
	in, err := guestInput(r)
	if err == nil {
		var p *psk.PSK
		p, err = h.PSKs.Create(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), 0, in)
		if err == nil {
			redirect(w, r, pathf("/ui/psks/%d?ssid=%s", p.ID, url.QueryEscape(r.PostFormValue("ssid"))), "Guest access created.")
			return
		}
	}
	h.fail(w, r, err)
}

// guestCard is one PSK as the front desk shows and prints it.
type guestCard struct {
	PSK  *psk.PSK
	SSID string
	QR   template.URL
}

func (h *Handlers) card(p *psk.PSK, ssid string) (guestCard, error) {
	c := guestCard{PSK: p, SSID: ssid}
	if ssid == "" {
		return c, nil
	}
	qr, err := qrImage(wifiJoin(ssid, p.Passphrase))
	c.QR = qr
	return c, err
}

// guests is the bulk result and the PSK page's data.
type guests struct {
	Cards []guestCard
	Now   any
}

func (h *Handlers) createGuests(w http.ResponseWriter, r *http.Request) {
	in, err := guestInput(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	n, err := strconv.Atoi(r.PostFormValue("count"))
	if err != nil || n < 1 || n > 100 {
		h.fail(w, r, fault.New(fault.Invalid, "Number of guests must be between 1 and 100."))
		return
	}
	items := make([]psk.NewPSK, n)
	for i := range items {
		items[i] = in
		if in.Description != "" {
			items[i].Description = in.Description + " " + strconv.Itoa(i+1)
		}
	}
	created, err := h.PSKs.CreateBulk(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), 0, items)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.showCards(w, r, created, "Guest access created", "Print these cards now: the passphrases are shown on this page.")
}

func (h *Handlers) showCards(w http.ResponseWriter, r *http.Request, list []*psk.PSK, title, msg string) {
	ssid := r.FormValue("ssid")
	d := guests{Now: h.PSKs.Now()}
	for _, p := range list {
		c, err := h.card(p, ssid)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		d.Cards = append(d.Cards, c)
	}
	h.render(w, r, http.StatusOK, "cards", &view{Title: title, Section: "psks", Flash: msg, Data: d})
}

// pskFor reads the {id} of the path and loads that PSK (with its
// passphrase) for the caller; another group's is not found.
func (h *Handlers) pskFor(r *http.Request) (*psk.PSK, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, psk.PSKNotFound(0)
	}
	return h.PSKs.Get(r.Context(), api.PrincipalFrom(r.Context()), id)
}

func (h *Handlers) pskPage(w http.ResponseWriter, r *http.Request) {
	p, err := h.pskFor(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ssid := r.URL.Query().Get("ssid")
	if ssid == "" {
		ssid = h.defaultSSID(r.Context(), api.PrincipalFrom(r.Context()))
	}
	c, err := h.card(p, ssid)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "psk", &view{Title: "PSK " + p.PSKID, Section: "psks", Flash: flash(r),
		Data: guests{Cards: []guestCard{c}, Now: h.PSKs.Now()}})
}

// pskCard is the print view of one guest card.
func (h *Handlers) pskCard(w http.ResponseWriter, r *http.Request) {
	p, err := h.pskFor(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.showCards(w, r, []*psk.PSK{p}, "Guest card", "")
}

func (h *Handlers) pskPatch(w http.ResponseWriter, r *http.Request, patch psk.Patch, done string) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.fail(w, r, psk.PSKNotFound(0))
		return
	}
	if _, err := h.PSKs.Update(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id, patch); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, back(r, pathf("/ui/psks/%d", id)), done)
}

func (h *Handlers) pskEnable(w http.ResponseWriter, r *http.Request) {
	on := true
	h.pskPatch(w, r, psk.Patch{Enabled: &on}, "Enabled.")
}

func (h *Handlers) pskDisable(w http.ResponseWriter, r *http.Request) {
	off := false
	h.pskPatch(w, r, psk.Patch{Enabled: &off}, "Disabled.")
}

// pskExtend sets the expiry to the given number of hours from now.
func (h *Handlers) pskExtend(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PostFormValue("hours"))
	if err != nil || n < 1 {
		h.fail(w, r, fault.New(fault.Invalid, "Extend by a whole number of hours, at least 1."))
		return
	}
	h.pskPatch(w, r, psk.Patch{ExpiresInHours: &n}, "Validity extended.")
}

func (h *Handlers) pskDelete(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.fail(w, r, psk.PSKNotFound(0))
		return
	}
	if err := h.PSKs.Delete(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), id); err != nil {
		h.fail(w, r, err)
		return
	}
	redirect(w, r, "/ui/psks", "Deleted.")
}

// back is the form's "back" field when it is one of our pages, else def.
func back(r *http.Request, def string) string {
	if b := r.PostFormValue("back"); strings.HasPrefix(b, "/ui/") && !strings.HasPrefix(b, "//") {
		return safeNext(b)
	}
	return def
}
