package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"netkeep/internal/api"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// signedIn wraps a page that needs a browser session. The principal comes
// from the session cookie through the API's own Authenticator. Without
// one the browser is sent to the sign-in page, which brings it back here
// afterwards; a cookie that no longer works (expired, signed out
// elsewhere, user disabled) is dropped and the sign-in page says the
// session ended. A change (POST) must also pass checkForm.
func (h *Handlers) signedIn(next http.HandlerFunc) http.Handler {
	auth := h.Auth.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := api.PrincipalFrom(r.Context())
		if p == nil && w.Header().Get("Retry-After") != "" {
			// Over the session's request budget (api.SessionLimits): the
			// session is fine, this request is refused.
			h.fail(w, r, errTooMany)
			return
		}
		if p == nil || p.Kind != authz.KindUser {
			q := url.Values{}
			if _, err := r.Cookie(api.SessionCookie); err == nil {
				api.ClearSessionCookie(w, r)
				q.Set("expired", "1")
			}
			if r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/ui/events") {
				q.Set("next", r.URL.RequestURI())
			}
			target := "/ui/login"
			if len(q) > 0 {
				target += "?" + q.Encode()
			}
			if r.Header.Get("HX-Request") == "true" {
				w.Header().Set("HX-Redirect", target)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		if h.formRefused(w, r) {
			return
		}
		next(w, r)
	}))
	// A change from another site is refused before the cookie is even
	// read: it must neither act nor end the session.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !safe(r.Method) && !api.SameOrigin(r) {
			h.fail(w, r, errForm)
			return
		}
		auth.ServeHTTP(w, r)
	})
}

var errTooMany = fault.New(fault.RateLimited, "Too many requests from this session. Wait a minute and reload the page.")

func safe(method string) bool { return method == http.MethodGet || method == http.MethodHead }

// anonymous wraps the pages before sign-in (setup, login): forms there
// are checked too, against the pre-sign-in cookie.
func (h *Handlers) anonymous(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.formRefused(w, r) {
			return
		}
		next(w, r)
	})
}

// formRefused reads a change's form and checks it (checkForm), answering
// the refusal itself; a GET passes.
func (h *Handlers) formRefused(w http.ResponseWriter, r *http.Request) bool {
	if safe(r.Method) {
		return false
	}
	err := h.parseForm(r)
	if err == nil {
		err = h.checkForm(r)
	}
	if err != nil {
		h.fail(w, r, err)
		return true
	}
	return false
}

// parseForm reads an urlencoded or multipart form (uploads up to the
// request's body limit, 8 MiB of it in memory).
func (h *Handlers) parseForm(r *http.Request) error {
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(8 << 20)
	} else {
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return fault.New(fault.TooLarge, "The form is too large.")
	case err != nil:
		return errBadForm.Wrap(err)
	}
	return nil
}

// bodyLimit raises a route's body limit from the server's default (an
// upload page).
func bodyLimit(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.SetBodyLimit(w, r, n)
		next.ServeHTTP(w, r)
	})
}

// safeNext is a same-site path to return to after sign-in, or the home page.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/ui/"
	}
	return next
}
