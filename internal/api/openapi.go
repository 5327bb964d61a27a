package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"gopkg.in/yaml.v3"
)

// OpenAPIDocument is an OpenAPI description kept as YAML in the source
// (comments, readable diffs) and served as JSON, converted once.
type OpenAPIDocument struct {
	json   []byte
	length string
}

// NewOpenAPIDocument converts an embedded YAML document. Errors: the YAML
// does not parse, or a mapping has a non-string key (an unquoted status
// code), which JSON cannot carry.
func NewOpenAPIDocument(src []byte) (*OpenAPIDocument, error) {
	var doc any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("parsing the OpenAPI document: %w", err)
	}
	doc, err := jsonable(doc)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return &OpenAPIDocument{json: b, length: strconv.Itoa(len(b))}, nil
}

// JSON returns the document as JSON (shared: do not modify).
func (d *OpenAPIDocument) JSON() []byte { return d.json }

// ServeHTTP serves the document; register it Public: it describes the API
// and reveals no data.
func (d *OpenAPIDocument) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", d.length)
	hdr.Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(d.json)
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
		return nil, fmt.Errorf("OpenAPI document: a mapping has a non-string key (quote status codes)")
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
