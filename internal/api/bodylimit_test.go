package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"netkeep/internal/api"
)

// TestSetBodyLimit: a route's own limit replaces the server-wide one in
// both directions, and a route that sets none keeps the server's.
func TestSetBodyLimit(t *testing.T) {
	// The handler sets the limit given in ?limit (when present), decodes
	// the body (one JSON string) and answers its length in bytes with the
	// quotes, or the error in the envelope.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := r.URL.Query().Get("limit"); s != "" {
			n, _ := strconv.ParseInt(s, 10, 64)
			api.SetBodyLimit(w, r, n)
		}
		var v string
		if err := api.Decode(r, &v); err != nil {
			api.Error(w, r, err)
			return
		}
		api.WriteJSON(w, http.StatusOK, map[string]int{"read": len(v) + 2})
	})
	tests := []struct {
		name   string
		query  string
		size   int
		status int
		want   string
	}{
		{"200/under the server limit", "", 64, 200, `{"read": 64}`},
		{"413/over the server limit", "", 65, 413, `{"error": {"code": "TOO_LARGE", "message": "request body exceeds 64 bytes"}}`},
		{"200/route raises the limit", "?limit=1000", 1000, 200, `{"read": 1000}`},
		{"413/over the raised limit", "?limit=1000", 1001, 413, `{"error": {"code": "TOO_LARGE", "message": "request body exceeds 1000 bytes"}}`},
		{"413/route lowers the limit", "?limit=10", 11, 413, `{"error": {"code": "TOO_LARGE", "message": "request body exceeds 10 bytes"}}`},
		{"200/route removes the limit", "?limit=0", 5000, 200, `{"read": 5000}`},
	}
	o := testOptions()
	o.MaxBodyBytes = 64
	wrapped := api.Wrap(h, o)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.NewReader(`"` + strings.Repeat("x", tt.size-2) + `"`)
			w := serve(wrapped, httptest.NewRequest(http.MethodPost, "/api/v1/groups"+tt.query, body))
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			assertJSON(t, w.Body.Bytes(), tt.want)
		})
	}

	t.Run("outside Wrap", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("0123456789"))
		api.SetBodyLimit(httptest.NewRecorder(), r, 4)
		if b, err := io.ReadAll(r.Body); err == nil || len(b) != 4 {
			t.Fatalf("read %q, %v; want 4 bytes and an error", b, err)
		}
	})
}
