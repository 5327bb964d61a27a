package apitest

import "testing"

func TestCheckFuzzed(t *testing.T) {
	tests := []struct {
		name   string
		env    Envelope
		status int
		body   string
		ok     bool
	}{
		{"ok/2xx any body", Nested, 201, `{"id":1}`, true},
		{"ok/netkey error", Flat, 400, `{"success":false,"error":"bad","code":"VALIDATION_ERROR"}`, true},
		{"ok/nested error", Nested, 413, `{"error":{"code":"TOO_LARGE","message":"too big"}}`, true},
		{"ok/nested error with empty message", Nested, 400, `{"error":{"code":"invalid","message":""}}`, true},
		{"bad/5xx", Nested, 500, `{"error":{"code":"INTERNAL_ERROR","message":"internal error"}}`, false},
		{"bad/netkey error not JSON", Flat, 400, `bad request`, false},
		{"bad/netkey success true", Flat, 400, `{"success":true,"error":"bad","code":"X"}`, false},
		{"bad/netkey no code", Flat, 400, `{"success":false,"error":"bad"}`, false},
		{"bad/nested in flat", Flat, 400, `{"error":{"code":"X","message":"m"}}`, false},
		{"bad/flat in nested", Nested, 400, `{"success":false,"error":"bad","code":"X"}`, false},
		{"bad/nested no message", Nested, 404, `{"error":{"code":"NOT_FOUND"}}`, false},
		{"bad/plain text 404", Nested, 404, "404 page not found\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			CheckFuzzed(r, tt.env, BodyRoute{Method: "POST", Path: "/x"}, []byte("{}"), tt.status, []byte(tt.body))
			if r.failed == tt.ok {
				t.Errorf("CheckFuzzed(%d %s) failed=%v, want ok=%v", tt.status, tt.body, r.failed, tt.ok)
			}
		})
	}
}
