package gatekey

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"gopkg.in/yaml.v3"

	"netkeep/internal/api"
)

// openAPIYAML is the OpenAPI 3.1 description of this dialect, kept as YAML
// (comments, readable diffs) and served as JSON. openapi_test.go checks it
// against the registered routes and real responses.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPIDocument returns the document as JSON.
func OpenAPIDocument() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		return nil, fmt.Errorf("parsing openapi.yaml: %w", err)
	}
	doc, err := jsonable(doc)
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

// jsonable turns what yaml.v3 decodes into values encoding/json accepts:
// every mapping must have string keys.
func jsonable(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			y, err := jsonable(x)
			if err != nil {
				return nil, err
			}
			v[k] = y
		}
		return v, nil
	case map[any]any:
		return nil, fmt.Errorf("openapi.yaml: a mapping has a non-string key (quote status codes)")
	case []any:
		for i, x := range v {
			y, err := jsonable(x)
			if err != nil {
				return nil, err
			}
			v[i] = y
		}
	}
	return v, nil
}

// OpenAPIHandlers serves the document (Public: it describes, it reveals no
// data).
type OpenAPIHandlers struct {
	doc    []byte
	length string
}

// Register adds GET /api/v1/openapi.json. The document is converted once,
// here; a malformed embedded document is a programming error and panics at
// wiring time (openapi_test.go catches it first).
func (h *OpenAPIHandlers) Register(rt *api.Router) {
	rt = rt.As(api.GateKey)
	doc, err := OpenAPIDocument()
	if err != nil {
		panic(err)
	}
	h.doc, h.length = doc, strconv.Itoa(len(doc))
	rt.HandleFunc("GET /api/v1/openapi.json", api.Public, h.serve)
}

func (h *OpenAPIHandlers) serve(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", h.length)
	hdr.Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(h.doc)
}
