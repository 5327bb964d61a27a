package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/authz"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages holds one template set per page: the layout, the shared partials
// (_*.html) and the page's own file, whose "content" block fills the
// layout. Parsed once at start; a
// template that does not parse stops the server from starting (and fails
// the tests).
var pages = parsePages()

func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"when": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				if v.IsZero() {
					return "never"
				}
				return v.UTC().Format("2006-01-02 15:04 UTC")
			case *time.Time:
				if v == nil || v.IsZero() {
					return "never"
				}
				return v.UTC().Format("2006-01-02 15:04 UTC")
			}
			return ""
		},
		"join": strings.Join,
		"add":  func(a, b int) int { return a + b },
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		out[base] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
	}
	return out
}

// view is what every page template gets: the signed-in user (nil on the
// sign-in pages), the form token, the section for the navigation, a
// message, and the page's own data.
type view struct {
	Title   string
	Section string
	User    *authz.Principal
	CSRF    string
	Flash   string
	Error   string
	Data    any
}

// Admin reports whether the navigation shows the administrators' pages.
// It only hides links: every page asks the domain, which decides.
func (v *view) Admin() bool {
	return v.User != nil && (v.User.Role == authz.GroupAdmin || v.User.Role == authz.SuperAdmin)
}

// Super reports whether the user administers every group.
func (v *view) Super() bool { return v.User != nil && v.User.Role == authz.SuperAdmin }

// securityHeaders are on every dashboard answer. The policy allows no
// inline script or style and no framing; QR codes are data: images.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}

// render writes page name with v, status 200. A page asked for by htmx
// with a fragment name (HX-Request and the page defines it) gets only that
// fragment.
func (h *Handlers) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	t, ok := pages[name]
	if !ok {
		panic("web: no page " + name)
	}
	if v.User == nil {
		v.User = api.PrincipalFrom(r.Context())
	}
	if v.CSRF == "" {
		v.CSRF = h.formToken(w, r)
	}
	exec := "layout.html"
	if frag := r.URL.Query().Get("fragment"); frag != "" && r.Header.Get("HX-Request") == "true" {
		if t.Lookup("fragment-"+frag) != nil {
			exec = "fragment-" + frag
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, exec, v); err != nil {
		api.LoggerFrom(r.Context()).Error("rendering page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// redirect sends the browser to path after a change (POST, redirect, GET),
// with a message for the next page.
func redirect(w http.ResponseWriter, r *http.Request, path, flash string) {
	if flash != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "flash=" + template.URLQueryEscaper(flash)
	}
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", path)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// flash is the message a redirect carried. It is shown as text (escaped).
func flash(r *http.Request) string {
	f := r.URL.Query().Get("flash")
	if len(f) > 200 {
		f = f[:200]
	}
	return f
}

func pathf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
