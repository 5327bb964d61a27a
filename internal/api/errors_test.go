package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"netkeep/internal/api"
	"netkeep/internal/fault"
)

// assertJSON fails unless got and want are the same JSON value.
func assertJSON(tb testing.TB, got []byte, want string) {
	tb.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		tb.Fatalf("body is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		tb.Fatalf("bad expectation %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		tb.Errorf("body  %s\nwant  %s", bytes.TrimSpace(got), want)
	}
}

// bufferLogger returns a logger writing text records into the buffer.
func bufferLogger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

// TestErrorEnvelopes renders each kind of error on a path of every dialect
// and compares status and the exact JSON body.
func TestErrorEnvelopes(t *testing.T) {
	const leak = "hunter2" // in causes only: must never reach a client
	var (
		notFound    = fault.New(fault.NotFound, "PSK not found")
		withReason  = fault.New(fault.NotFound, "PSK not found").WithReason("PSK_NOT_FOUND").WithDetails(map[string]any{"psk_id": 123})
		invalid     = fault.New(fault.Invalid, "name is required").WithDetails(map[string]any{"field": "name"})
		rateLimited = fault.New(fault.RateLimited, "too many requests")
		plain       = fmt.Errorf("listing users: %w", errors.New("dial db: password="+leak))
		internal    = fault.New(fault.Internal, "store failed: "+leak).Wrap(errors.New(leak))
		wrapped     = fmt.Errorf("loading psk 7: %w", notFound)
		withCause   = fault.New(fault.Conflict, "name taken").Wrap(errors.New("UNIQUE constraint failed: " + leak))
	)
	tests := []struct {
		name   string
		path   string
		err    error
		status int
		want   string
	}{
		{"netkey/not_found", "/api/v1/psks/7", notFound, 404,
			`{"success": false, "error": "PSK not found", "code": "NOT_FOUND"}`},
		{"netkey/not_found with reason and details", "/api/v1/psks/123", withReason, 404,
			`{"success": false, "error": "PSK not found", "code": "PSK_NOT_FOUND", "details": {"psk_id": 123}}`},
		{"netkey/wrapped not_found", "/api/auth/me", wrapped, 404,
			`{"success": false, "error": "PSK not found", "code": "NOT_FOUND"}`},
		{"netkey/invalid with details", "/api/v1/psks", invalid, 400,
			`{"success": false, "error": "name is required", "code": "VALIDATION_ERROR", "details": {"field": "name"}}`},
		{"netkey/rate_limited", "/api/auth/login", rateLimited, 429,
			`{"success": false, "error": "too many requests", "code": "RATE_LIMIT_EXCEEDED"}`},
		{"netkey/internal plain error", "/api/v1/users", plain, 500,
			`{"success": false, "error": "internal error", "code": "INTERNAL_ERROR"}`},
		{"netkey/internal fault", "/api/v1/users", internal, 500,
			`{"success": false, "error": "internal error", "code": "INTERNAL_ERROR"}`},
		{"netkey/conflict with cause", "/api/v1/psks", withCause, 409,
			`{"success": false, "error": "name taken", "code": "CONFLICT"}`},

		{"gatekey/not_found", "/api/v1/admin/gateways/9", notFound, 404,
			`{"error": {"code": "not_found", "message": "PSK not found"}}`},
		{"gatekey/invalid with details", "/api/v1/pki/revoke", invalid, 400,
			`{"error": {"code": "invalid", "message": "name is required", "details": {"field": "name"}}}`},
		{"gatekey/rate_limited", "/api/v1/auth/local/login", rateLimited, 429,
			`{"error": {"code": "rate_limited", "message": "too many requests"}}`},
		{"gatekey/internal", "/api/v1/gateways", plain, 500,
			`{"error": {"code": "internal", "message": "internal error"}}`},

		{"nekzus/not_found", "/api/v1/devices/d1", notFound, 404,
			`{"error": {"code": "NOT_FOUND", "message": "PSK not found"}}`},
		{"nekzus/invalid with details", "/api/v1/apps", invalid, 400,
			`{"error": {"code": "BAD_REQUEST", "message": "name is required", "details": {"field": "name"}}}`},
		{"nekzus/rate_limited", "/healthz", rateLimited, 429,
			`{"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "too many requests"}}`},
		{"nekzus/internal", "/api/v1/devices", internal, 500,
			`{"error": {"code": "INTERNAL_ERROR", "message": "internal error"}}`},

		{"netrecon/not_found", "/api/v1/api-keys/1", notFound, 404,
			`{"error": {"code": "NOT_FOUND", "message": "PSK not found"}}`},
		{"netmaker/invalid", "/api/networks", invalid, 400,
			`{"error": {"code": "BAD_REQUEST", "message": "name is required", "details": {"field": "name"}}}`},

		{"own/not_found", "/api/v1/groups/1", notFound, 404,
			`{"error": {"code": "NOT_FOUND", "message": "PSK not found"}}`},
		{"own/rate_limited", "/api/v1/groups", rateLimited, 429,
			`{"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "too many requests"}}`},
		{"own/internal", "/nowhere", plain, 500,
			`{"error": {"code": "INTERNAL_ERROR", "message": "internal error"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, logged := bufferLogger()
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			r = r.WithContext(api.WithLogger(r.Context(), log))
			w := httptest.NewRecorder()
			api.Error(w, r, tt.err)

			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			assertJSON(t, w.Body.Bytes(), tt.want)
			if strings.Contains(w.Body.String(), leak) {
				t.Errorf("body leaks the cause: %s", w.Body)
			}
			if tt.status == 500 && !strings.Contains(logged.String(), leak) {
				t.Errorf("internal error's cause was not logged; log:\n%s", logged)
			}
		})
	}
}

// TestErrorStatus: the one table from codes to HTTP status.
func TestErrorStatus(t *testing.T) {
	tests := []struct {
		code fault.Code
		want int
	}{
		{fault.NotFound, 404},
		{fault.Invalid, 400},
		{fault.Conflict, 409},
		{fault.Unauthorized, 401},
		{fault.Forbidden, 403},
		{fault.RateLimited, 429},
		{fault.Unavailable, 503},
		{fault.TooLarge, 413},
		{fault.MethodNotAllowed, 405},
		{fault.Internal, 500},
		{fault.Code("made_up"), 500},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/api/v1/groups", nil)
			r = r.WithContext(api.WithLogger(r.Context(), slog.New(slog.DiscardHandler)))
			api.Error(w, r, fault.New(tt.code, "message"))
			if w.Code != tt.want {
				t.Errorf("status = %d, want %d", w.Code, tt.want)
			}
		})
	}
}

// TestErrorAs renders in the dialect given, whatever the path.
func TestErrorAs(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/api/v1/groups", nil)
	api.ErrorAs(w, r, api.NetKey, fault.New(fault.Forbidden, "not yours"))
	if w.Code != http.StatusForbidden {
		t.Errorf("status = %d, want 403", w.Code)
	}
	assertJSON(t, w.Body.Bytes(), `{"success": false, "error": "not yours", "code": "FORBIDDEN"}`)
}

func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	api.WriteJSON(w, http.StatusCreated, map[string]any{"id": 1, "name": "a<b"})
	if w.Code != http.StatusCreated {
		t.Errorf("status = %d, want 201", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	assertJSON(t, w.Body.Bytes(), `{"id": 1, "name": "a<b"}`)
}
