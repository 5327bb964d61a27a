package gatekey

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/fault"
)

// pageOf reads the page (from 1) and per_page (default 20, at most
// maxPerPage) query parameters.
func pageOf(r *http.Request) (page, perPage int, err error) {
	q := r.URL.Query()
	if page, err = api.IntParam(q.Get("page"), 1, 1, 1<<31-1); err != nil {
		return 0, 0, fault.New(fault.Invalid, "page must be a positive integer").WithDetails(map[string]any{"field": "page"})
	}
	if perPage, err = api.IntParam(q.Get("per_page"), 20, 1, 1<<31-1); err != nil {
		return 0, 0, fault.New(fault.Invalid, "per_page must be a positive integer").WithDetails(map[string]any{"field": "per_page"})
	}
	return page, min(perPage, maxPerPage), nil
}

// writePage answers one page of items, each encoded by enc, with the
// seed's meta block.
func writePage[T any](w http.ResponseWriter, r *http.Request, items []T, enc func(T) map[string]any) {
	page, perPage, err := pageOf(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	lo := min((page-1)*perPage, len(items))
	hi := min(lo+perPage, len(items))
	out := make([]map[string]any, 0, hi-lo)
	for _, it := range items[lo:hi] {
		out = append(out, enc(it))
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"data": out,
		"meta": map[string]any{"total": len(items), "page": page, "per_page": perPage},
	})
}

// writeData answers a single object.
func writeData(w http.ResponseWriter, status int, v any) {
	api.WriteJSON(w, status, map[string]any{"data": v})
}

// deleted answers a successful deletion.
func deleted(w http.ResponseWriter, id string) {
	writeData(w, http.StatusOK, map[string]any{"id": id, "deleted": true})
}
