package gatekey

import (
	_ "embed"

	"netkeep/internal/api"
)

// openAPIYAML is the OpenAPI 3.1 description of this dialect, served as
// JSON at /api/v1/openapi.json. openapi_test.go checks it against the
// registered routes and real responses.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPIDocument returns the document.
func OpenAPIDocument() (*api.OpenAPIDocument, error) { return api.NewOpenAPIDocument(openAPIYAML) }
