package netkey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"netkeep/internal/api"
	"netkeep/internal/fault"
	"netkeep/internal/psk"
)

// bulkItems reads a bulk body: {"<key>": [...], "group_id": N} or a bare
// array. Items stay raw so that a malformed one can be named by index.
func bulkItems(r *http.Request, key string) ([]json.RawMessage, int64, error) {
	var raw json.RawMessage
	if err := api.Decode(r, &raw); err != nil {
		return nil, 0, err
	}
	var items []json.RawMessage
	var groupID int64
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, 0, invalidField(key, "the body must be an array of objects or {\""+key+"\": [...]}")
		}
		return items, 0, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, 0, invalidField(key, "the body must be an array of objects or {\""+key+"\": [...]}")
	}
	if err := json.Unmarshal(obj[key], &items); err != nil || items == nil {
		return nil, 0, invalidField(key, key+" must be an array of objects")
	}
	if g, ok := obj["group_id"]; ok {
		if err := json.Unmarshal(g, &groupID); err != nil {
			return nil, 0, invalidField("group_id", "group_id must be a whole number")
		}
	}
	return items, groupID, nil
}

// itemErr reports a bulk item that is not the expected JSON object, or
// whose fields do not read, with its index.
func itemErr(i int, err error) error {
	msg := "item is not a valid object"
	details := map[string]any{"index": i}
	var typ *json.UnmarshalTypeError
	if fe := fault.As(err); fe != nil {
		msg = fe.Message
		for k, v := range fe.Details {
			details[k] = v
		}
		details["index"] = i
	} else if errors.As(err, &typ) {
		msg = fmt.Sprintf("field %q must be %s", typ.Field, typ.Type)
		details["field"] = typ.Field
	}
	return fault.Errorf(fault.Invalid, "item %d: %s", i, msg).WithDetails(details)
}

// bulkPSKs creates up to 1,000 PSKs in one transaction: 201 with every
// PSK (passphrases included, since some were generated), or nothing.
func (h *Handlers) bulkPSKs(w http.ResponseWriter, r *http.Request) {
	raw, groupID, err := bulkItems(r, "psks")
	if err != nil {
		api.Error(w, r, err)
		return
	}
	if len(raw) > psk.MaxBulk {
		api.Error(w, r, invalidField("psks", fmt.Sprintf("at most %d PSKs per request", psk.MaxBulk)))
		return
	}
	items := make([]psk.NewPSK, len(raw))
	for i, b := range raw {
		var in pskBody
		if err := json.Unmarshal(b, &in); err != nil {
			api.Error(w, r, itemErr(i, err))
			return
		}
		items[i] = in.newPSK()
	}
	created, err := h.PSKs.CreateBulk(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), groupID, items)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, pskBulkJSON{Success: true, Created: len(created), PSKs: newPSKsJSON(created, h.PSKs.Now(), true)})
}

// exportPSKs streams the usable PSKs as hostapd's wpa_psk_file (the
// default) or as CSV. Query: format=hostapd|csv, group_id (super
// principals).
func (h *Handlers) exportPSKs(w http.ResponseWriter, r *http.Request) {
	q := &query{r: r}
	groupID := q.int64("group_id")
	if q.err != nil {
		api.Error(w, r, q.err)
		return
	}
	f := psk.Format(r.URL.Query().Get("format"))
	if f == "" {
		f = psk.FormatHostapd
	}
	ct, name := "text/plain; charset=utf-8", "wpa_psk_file"
	if f == psk.FormatCSV {
		ct, name = "text/csv; charset=utf-8", "psks.csv"
	}
	lw := &lazyHeaders{w: w, contentType: ct, filename: name}
	err := h.PSKs.Export(r.Context(), api.PrincipalFrom(r.Context()), groupID, f, lw)
	switch {
	case err != nil && !lw.started:
		api.Error(w, r, err)
	case err != nil:
		// The status is sent: abort so the client sees a broken transfer,
		// not a short file.
		api.LoggerFrom(r.Context()).Error("exporting PSKs", "err", err, "request_id", api.RequestID(r.Context()))
		panic(http.ErrAbortHandler)
	default:
		lw.start()
	}
}

// lazyHeaders sets the export's headers on the first write, so an error
// before any output can still be answered in the NetKey envelope.
type lazyHeaders struct {
	w           http.ResponseWriter
	contentType string
	filename    string
	started     bool
}

func (l *lazyHeaders) start() {
	if l.started {
		return
	}
	l.started = true
	h := l.w.Header()
	h.Set("Content-Type", l.contentType)
	h.Set("Content-Disposition", "attachment; filename="+strconv.Quote(l.filename))
	h.Set("Cache-Control", "no-store")
	l.w.WriteHeader(http.StatusOK)
}

func (l *lazyHeaders) Write(b []byte) (int, error) {
	l.start()
	return l.w.Write(b)
}
