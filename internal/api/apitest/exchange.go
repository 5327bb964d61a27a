package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	validator "github.com/pb33f/libopenapi-validator"

	"netkeep/internal/server/servertest"
)

// Exchange makes one real request to e and returns it and the response,
// both with bodies that can be read again, for an OpenAPI validator.
// headers are name, value pairs.
func Exchange(tb testing.TB, e *servertest.Env, method, path string, body any, headers ...string) (*http.Request, *http.Response) {
	tb.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			tb.Fatal(err)
		}
	}
	newReq := func() *http.Request {
		req, err := http.NewRequest(method, e.URL+path, bytes.NewReader(raw))
		if err != nil {
			tb.Fatal(err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		return req
	}
	res, err := e.Client.Do(newReq())
	if err != nil {
		tb.Fatal(err)
	}
	out, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		tb.Fatal(err)
	}
	res.Body = io.NopCloser(bytes.NewReader(out))
	return newReq(), res
}

// Conforms fails tb unless res answered status and matches v's document,
// and, for a success, req does too: refused requests (no credential, bad
// input) are not valid requests by design, but their responses must still
// match.
func Conforms(tb testing.TB, v validator.Validator, req *http.Request, res *http.Response, status int) {
	tb.Helper()
	if res.StatusCode != status {
		raw, _ := io.ReadAll(res.Body)
		tb.Fatalf("%d, want %d: %s", res.StatusCode, status, raw)
	}
	validate := v.ValidateHttpResponse
	if res.StatusCode < 300 {
		validate = v.ValidateHttpRequestResponse
	}
	if ok, errs := validate(req, res); !ok {
		for _, err := range errs {
			tb.Errorf("%s: %s (%v)", err.Message, err.Reason, err.SchemaValidationErrors)
		}
	}
}
