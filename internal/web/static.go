package web

import (
	"embed"
	"mime"
	"net/http"
	"path"
)

// static holds the stylesheet, the script and the vendored htmx (see
// static/htmx-VERSION for its origin and checksum, static/htmx-LICENSE).
//
//go:embed static/*
var static embed.FS

// staticFiles serves /static/{file}: only the files embedded, cacheable
// for an hour (they change with the binary).
func staticFiles() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		b, err := static.ReadFile("static/" + name)
		if err != nil || path.Base(name) != name {
			http.NotFound(w, r)
			return
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "text/plain; charset=utf-8"
		}
		securityHeaders(w)
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(b)
	})
}
