package netmaker

import (
	"net/http"
	"strings"
	"time"

	"netkeep/internal/api"
	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/ratelimit"
)

// nodeAuthLimit is the per-source-IP budget of node authentication: roomier
// than user logins, since many agents may sit behind one NAT, while still
// bounding the password hashing a caller can demand.
var nodeAuthLimit = ratelimit.Limit{Max: 300, Window: 60e9}

// nodeOrUser authenticates a node's own call: a node JWT, or else any
// credential the shared authenticator accepts (administrators acting on a
// node). Without either the caller gets 401.
func (h *MeshHandlers) nodeOrUser(fn func(http.ResponseWriter, *http.Request, *authz.Principal)) http.Handler {
	user := h.Auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fn(w, r, api.PrincipalFrom(r.Context()))
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := api.BearerToken(r); strings.Count(tok, ".") == 2 {
			if p, err := h.Mesh.AuthenticateNodeToken(r.Context(), tok); err == nil {
				fn(w, r, p)
				return
			}
		}
		user.ServeHTTP(w, r)
	})
}

// source is the audit source of a request made as p.
func source(r *http.Request, p *authz.Principal) audit.Source {
	src := api.Source(r)
	if src.Actor == "" && p != nil {
		src.Actor = p.Actor()
	}
	return src
}

// authenticateNode exchanges a node's macaddress and password for a JWT that
// authorises that node's own calls, in Netmaker's success envelope.
func (h *MeshHandlers) authenticateNode(w http.ResponseWriter, r *http.Request) {
	var in struct {
		MACAddress string `json:"macaddress"`
		Password   string `json:"password"`
	}
	if err := api.Decode(r, &in); err != nil {
		api.Error(w, r, err)
		return
	}
	for _, f := range []struct{ name, value string }{{"macaddress", in.MACAddress}, {"password", in.Password}} {
		if f.value == "" {
			api.Error(w, r, fault.New(fault.Invalid, f.name+" is required").WithDetails(map[string]any{"field": f.name}))
			return
		}
	}
	tok, exp, err := h.Mesh.AuthenticateNode(r.Context(), r.PathValue("network"), in.MACAddress, in.Password)
	if err != nil {
		api.Error(w, r, err) // a lockout's 429 carries Retry-After (api.Error)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, nodeAuthResponse{
		Code:    http.StatusOK,
		Message: "W1R3: Device " + in.MACAddress + " Authorized",
		Response: nodeAuthToken{
			AuthToken:  tok,
			MacAddress: in.MACAddress,
			ExpiresAt:  exp.UTC(),
		},
	})
}

// nodeAuthResponse is Netmaker's success envelope of a node authentication.
type nodeAuthResponse struct {
	Code     int           `json:"Code"`
	Message  string        `json:"Message"`
	Response nodeAuthToken `json:"Response"`
}

type nodeAuthToken struct {
	AuthToken  string    `json:"AuthToken"`
	MacAddress string    `json:"MacAddress"`
	ExpiresAt  time.Time `json:"ExpiresAt"`
}
