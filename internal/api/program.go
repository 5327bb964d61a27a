package api

import (
	"net/http"
	"strings"
)

// GateKeyProgram reports whether r was sent by one of GateKey's own
// programs (the gatekey client, gatekey-admin, the gatekey-gateway agent and
// its OpenVPN hooks). Those programs never set a User-Agent, so Go's
// net/http sends its default, "Go-http-client/1.1" (or "/2.0" over HTTP/2);
// that header is the documented signal. GateKey routes answer such requests
// in the shapes the programs decode (errors as {"error": "message"}, bare
// objects, lists under a named key); any other User-Agent (curl, browsers,
// scripts and SDKs that name themselves) gets the seed's documented shapes.
func GateKeyProgram(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("User-Agent"), "Go-http-client/")
}
