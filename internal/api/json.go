package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"netkeep/internal/fault"
)

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Decode reads the JSON request body into v. Unknown fields are ignored, as
// the seeds' clients may send more than a handler reads. Errors are fault
// errors: invalid for malformed JSON, too_large past the body limit.
func Decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return fault.Errorf(fault.TooLarge, "request body exceeds %d bytes", tooBig.Limit)
		case errors.Is(err, io.EOF):
			return fault.New(fault.Invalid, "request body is empty; JSON expected")
		case errors.As(err, &syn):
			return fault.Errorf(fault.Invalid, "malformed JSON at offset %d", syn.Offset)
		case errors.As(err, &typ):
			return fault.Errorf(fault.Invalid, "field %q must be %s", typ.Field, typ.Type)
		}
		return fault.New(fault.Invalid, "malformed JSON body")
	}
	// Exactly one value: the next read must be a clean end of the body.
	switch err := dec.Decode(&struct{}{}); {
	case errors.Is(err, io.EOF):
		return nil
	case isTooLarge(err):
		return fault.Errorf(fault.TooLarge, "request body exceeds the size limit")
	}
	return fault.New(fault.Invalid, "request body must hold a single JSON value")
}

func isTooLarge(err error) bool {
	var tooBig *http.MaxBytesError
	return errors.As(err, &tooBig)
}
