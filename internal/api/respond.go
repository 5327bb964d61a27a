package api

import "net/http"

// Respond answers with view(v) and status, or with err in the path's
// envelope: the tail of a handler that calls one domain method.
func Respond[T, V any](w http.ResponseWriter, r *http.Request, status int, v T, err error, view func(T) V) {
	if err != nil {
		Error(w, r, err)
		return
	}
	WriteJSON(w, status, view(v))
}

// RespondList answers 200 with every item through view (an empty list as
// []), or with err.
func RespondList[T, V any](w http.ResponseWriter, r *http.Request, items []T, err error, view func(T) V) {
	if err != nil {
		Error(w, r, err)
		return
	}
	out := make([]V, 0, len(items))
	for _, it := range items {
		out = append(out, view(it))
	}
	WriteJSON(w, http.StatusOK, out)
}

// RespondEmpty answers 204 No Content, or with err: the tail of a handler
// whose domain method returns nothing (a delete).
func RespondEmpty(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
