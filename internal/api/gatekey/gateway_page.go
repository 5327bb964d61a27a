package gatekey

import (
	"net/http"

	"netkeep/internal/api"
	"netkeep/internal/fault"
)

// list is a page of a list as the seed shows it: {"data": [...], "meta":
// {"total", "page", "per_page"}}. Data is never null.
type list[T any] struct {
	Data []T      `json:"data"`
	Meta listMeta `json:"meta"`
}

type listMeta struct {
	Total   int `json:"total"`
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
}

// item is a single object: {"data": {...}}.
type item[T any] struct {
	Data T `json:"data"`
}

// deletion answers a successful deletion.
type deletion struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

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

// writePage answers the requested page of items, each encoded by enc; key
// names the list for GateKey's own programs (writeList).
func writePage[T, R any](w http.ResponseWriter, r *http.Request, key string, items []T, enc func(T) R) {
	page, perPage, err := pageOf(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	lo := min((page-1)*perPage, len(items))
	hi := min(lo+perPage, len(items))
	out := make([]R, 0, hi-lo)
	for _, it := range items[lo:hi] {
		out = append(out, enc(it))
	}
	writeList(w, r, key, out, len(items), page, perPage)
}

// writeList answers a page the domain already cut, of total items in all.
// GateKey's own programs (api.GateKeyProgram) read the list under its name
// ("gateways", "access_rules", ...): they get it there too, beside the
// seed's data and meta.
func writeList[T any](w http.ResponseWriter, r *http.Request, key string, data []T, total, page, perPage int) {
	l := list[T]{Data: orEmpty(data), Meta: listMeta{Total: total, Page: page, PerPage: perPage}}
	if api.GateKeyProgram(r) {
		api.WriteJSON(w, http.StatusOK, map[string]any{key: l.Data, "data": l.Data, "meta": l.Meta, "total": total})
		return
	}
	api.WriteJSON(w, http.StatusOK, l)
}

// writeData answers a single object: {"data": {...}} as the seed shows,
// the bare object for GateKey's own programs.
func writeData[T any](w http.ResponseWriter, r *http.Request, status int, v T) {
	if api.GateKeyProgram(r) {
		api.WriteJSON(w, status, v)
		return
	}
	api.WriteJSON(w, status, item[T]{Data: v})
}

// deleted answers a successful deletion.
func deleted(w http.ResponseWriter, r *http.Request, id string) {
	writeData(w, r, http.StatusOK, deletion{ID: id, Deleted: true})
}
