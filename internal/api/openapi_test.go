package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// NewOpenAPIDocument converts YAML to JSON once and refuses what JSON
// cannot carry; the document is served with its length and caching.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml, json, err string
	}{
		{"ok/quoted status", "openapi: 3.1.0\npaths:\n  /x:\n    get:\n      responses:\n        \"200\": {description: ok}\n",
			`{"openapi":"3.1.0","paths":{"/x":{"get":{"responses":{"200":{"description":"ok"}}}}}}`, ""},
		{"invalid/unquoted status", "paths:\n  /x:\n    get:\n      responses:\n        200: {description: ok}\n", "", "non-string key"},
		{"invalid/not YAML", "paths: [", "", "parsing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewOpenAPIDocument([]byte(tc.yaml))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(d.JSON()) != tc.json {
				t.Fatalf("JSON = %s, want %s", d.JSON(), tc.json)
			}
			w := httptest.NewRecorder()
			d.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/doc.json", nil))
			h := w.Result().Header
			if w.Code != 200 || w.Body.String() != tc.json || h.Get("Content-Type") != "application/json" ||
				h.Get("Content-Length") != "85" || !strings.HasPrefix(h.Get("Cache-Control"), "public") {
				t.Fatalf("served %d %v %s", w.Code, h, w.Body)
			}
		})
	}
}
