package apitest

import (
	"encoding/json"
	"testing"

	"netkeep/internal/server/servertest"
)

// Envelope is the shape of a dialect's error responses.
type Envelope int

const (
	// Flat is NetKey's {"success": false, "error": msg, "code": "CODE"}.
	Flat Envelope = iota
	// Nested is {"error": {"code": "...", "message": "..."}}: GateKey,
	// Nekzus, NetRecon, Netmaker and netkeep's own paths.
	Nested
)

// BodyRoute is a documented route that takes a JSON request body, with the
// credentials (header name, value pairs) that let a request reach its
// decoding.
type BodyRoute struct {
	Method, Path string
	Header       []string
}

// FuzzBodies registers f's fuzz function: each input sends body to
// routes[route % len(routes)] on the server e, and fails on a server error
// (5xx) or on a 4xx whose body is not env's error envelope. It is the
// contract every dialect's decoding keeps whatever the bytes: a malformed
// body is the client's fault, answered in the envelope its clients parse.
// The seed corpus is the calling package's testdata/fuzz/<FuzzName>/: the
// seed's documented request bodies, each file a route index and a body.
func FuzzBodies(f *testing.F, e *servertest.Env, env Envelope, routes []BodyRoute) {
	f.Helper()
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := routes[int(route)%len(routes)]
		r := e.Do(t, rt.Method, rt.Path, body, rt.Header...)
		CheckFuzzed(t, env, rt, body, r.Status, r.Raw)
	})
}

// Must calls the server e and fails tb unless the answer has status: for
// the fixtures a fuzz target makes before fuzzing.
func Must(tb testing.TB, e *servertest.Env, status int, method, path string, body any, header ...string) *servertest.Response {
	tb.Helper()
	r := e.Do(tb, method, path, body, header...)
	if r.Status != status {
		tb.Fatalf("%s %s: %d %s", method, path, r.Status, r.Raw)
	}
	return r
}

// CheckFuzzed fails tb when the answer to body on route is a 5xx, or a 4xx
// not in env's envelope (parseable JSON with the envelope's fields set).
func CheckFuzzed(tb testing.TB, env Envelope, route BodyRoute, body []byte, status int, raw []byte) {
	tb.Helper()
	if status >= 500 {
		tb.Fatalf("%s %s answered %d to body %q: %s", route.Method, route.Path, status, body, raw)
	}
	if status < 400 {
		return
	}
	if problem := envelopeProblem(env, raw); problem != "" {
		tb.Fatalf("%s %s answered %d to body %q with %s: %s", route.Method, route.Path, status, body, problem, raw)
	}
}

// envelopeProblem says what makes raw not an error of env, or "".
func envelopeProblem(env Envelope, raw []byte) string {
	switch env {
	case Flat:
		var e struct {
			Success *bool  `json:"success"`
			Error   string `json:"error"`
			Code    string `json:"code"`
		}
		switch {
		case json.Unmarshal(raw, &e) != nil:
			return "a body that is not the NetKey envelope"
		case e.Success == nil || *e.Success:
			return `no "success": false`
		case e.Error == "" || e.Code == "":
			return `an empty "error" or "code"`
		}
	case Nested:
		var e struct {
			Error *struct {
				Code    string  `json:"code"`
				Message *string `json:"message"`
			} `json:"error"`
		}
		switch {
		case json.Unmarshal(raw, &e) != nil:
			return `a body that is not the {"error": {...}} envelope`
		case e.Error == nil || e.Error.Code == "" || e.Error.Message == nil:
			return `no "error" object with "code" and "message"`
		}
	}
	return ""
}
