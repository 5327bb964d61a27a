package netkey

import (
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/config"
	"netkeep/internal/fault"
)

// importWriteGrace is how long after its upload's deadline an import may
// still take to answer: the final transaction that makes a large import
// visible runs after the last byte is read.
const importWriteGrace = 5 * time.Minute

// importPSKs creates PSKs (and endpoints) from a CSV body, text/csv or a
// multipart/form-data upload's first file, all or nothing. Query: group_id
// (super principals). Only group administrators may import (psk.Import).
//
// Body size: a CSV import may be far larger than any JSON body, so the
// route replaces the server-wide max-body-bytes (1 MiB by default) with its
// own bound, MaxImportBytes (1 GiB by default), through api.SetBodyLimit;
// past it the answer is 413. The import streams: it never holds the body.
//
// Upload time: the route replaces the server's read timeout with its own
// deadline, ImportTimeout (config.DefaultImportTimeout when 0), so a large upload
// may take longer than a JSON request and a trickled one still ends: past
// it the answer is 408. An upload that ends early (a body shorter than its
// length, a multipart body without its closing boundary) is 400. Both are
// answered in NetKey's envelope and store nothing.
func (h *Handlers) importPSKs(w http.ResponseWriter, r *http.Request) {
	q := &query{r: r}
	groupID := q.int64("group_id")
	if q.err != nil {
		api.Error(w, r, q.err)
		return
	}
	limit := h.MaxImportBytes
	if limit <= 0 {
		limit = DefaultMaxImportBytes
	}
	timeout := h.ImportTimeout
	if timeout <= 0 {
		timeout = config.DefaultImportTimeout
	}
	// Without a conn (an in-process recorder) there is no deadline to set.
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(timeout)
	_ = rc.SetReadDeadline(deadline)
	_ = rc.SetWriteDeadline(deadline.Add(importWriteGrace))
	api.SetBodyLimit(w, r, limit)
	body, err := csvBody(r)
	if err != nil {
		api.Error(w, r, err)
		return
	}
	res, err := h.PSKs.Import(r.Context(), api.PrincipalFrom(r.Context()), api.Source(r), groupID, uploadReader{body})
	if err != nil {
		api.Error(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, importJSON{Success: true, Imported: res.PSKs, Endpoints: res.Endpoints})
}

// csvBody returns the CSV of r: the body itself, or the first file of a
// multipart/form-data upload (read as a stream, never buffered whole).
func csvBody(r *http.Request) (io.Reader, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return r.Body, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, invalidField("file", "malformed multipart body")
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			if uerr := uploadErr(err); !fault.Is(uerr, fault.Invalid) {
				return nil, uerr
			}
			return nil, invalidField("file", "the upload holds no CSV file")
		}
		if part.FileName() != "" || part.FormName() == "file" {
			return part, nil
		}
	}
}

// uploadReader turns failures of reading the upload into the client's
// faults, which the import returns as they are.
type uploadReader struct{ r io.Reader }

func (u uploadReader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	if err != nil && err != io.EOF {
		err = uploadErr(err)
	}
	return n, err
}

// uploadErr classifies a failed read of a request body: past the body
// limit 413, past the read deadline 408, and anything else (a body that
// ends before its length or its closing multipart boundary, a malformed
// multipart part, a connection gone) the client's malformed request, 400.
func uploadErr(err error) error {
	var tooBig *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &tooBig):
		return fault.Errorf(fault.TooLarge, "request body exceeds %d bytes", tooBig.Limit)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fault.New(fault.Timeout, "the upload took longer than the time allowed").Wrap(err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return uploadInvalid("the upload ended early: the body is truncated or its closing multipart boundary is missing", err)
	}
	return uploadInvalid("the upload could not be read", err)
}

func uploadInvalid(msg string, cause error) error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": "file"}).Wrap(cause)
}
