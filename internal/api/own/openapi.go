package own

import (
	_ "embed"

	"netkeep/internal/api"
)

// OpenAPIPath is where netkeep's own document is served, as JSON, apart
// from GateKey's /api/v1/openapi.json (whose path and content that
// dialect's document fixes).
const OpenAPIPath = "/api/v1/netkeep/openapi.json"

// openAPIYAML describes netkeep's own routes; openapi_test.go checks the
// served document against the registered routes and real responses.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPIDocument returns the document.
func OpenAPIDocument() (*api.OpenAPIDocument, error) { return api.NewOpenAPIDocument(openAPIYAML) }
