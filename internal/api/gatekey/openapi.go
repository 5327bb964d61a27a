package gatekey

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"gopkg.in/yaml.v3"
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

// openAPI serves the document (Public: it describes, it reveals no data),
// converted once by Register.
func (h *Handlers) openAPI(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", h.openAPILength)
	hdr.Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(h.openAPIDoc)
}
