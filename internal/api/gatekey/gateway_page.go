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

// writePage answers the requested page of items, each encoded by enc.
func writePage[T, R any](w http.ResponseWriter, r *http.Request, items []T, enc func(T) R) {
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
	writeList(w, out, len(items), page, perPage)
}

// writeList answers a page the domain already cut, of total items in all.
func writeList[T any](w http.ResponseWriter, data []T, total, page, perPage int) {
	api.WriteJSON(w, http.StatusOK, list[T]{Data: orEmpty(data), Meta: listMeta{Total: total, Page: page, PerPage: perPage}})
}

// writeData answers a single object.
func writeData[T any](w http.ResponseWriter, status int, v T) {
	api.WriteJSON(w, status, item[T]{Data: v})
}

// deleted answers a successful deletion.
func deleted(w http.ResponseWriter, id string) {
	writeData(w, http.StatusOK, deletion{ID: id, Deleted: true})
}
