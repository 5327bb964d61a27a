package api

import "net/http"

// SetBodyLimit makes n bytes the limit of r's body in place of the
// server-wide MaxBodyBytes that Wrap applied; n <= 0 removes the limit. A
// route whose bodies may be larger than that (a streamed CSV import) or must
// be smaller calls it first thing in its handler: it re-wraps the body Wrap
// received, so it can raise the limit as well as lower it, and it must run
// before anything reads r.Body. Reading past n fails with
// *http.MaxBytesError, which Decode reports as too_large (413). Outside Wrap
// it limits r.Body as it is.
func SetBodyLimit(w http.ResponseWriter, r *http.Request, n int64) {
	body := r.Body
	if st := requestOf(r.Context()); st != nil && st.body != nil {
		// The real writer, so that the server closes the connection after
		// answering a body that went over the limit.
		body, w = st.body, st.sw.ResponseWriter
	}
	if body == nil {
		return
	}
	if n <= 0 {
		r.Body = body
		return
	}
	r.Body = http.MaxBytesReader(w, body, n)
}
