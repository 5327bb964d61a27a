package gatekey_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"netkeep/internal/identity"
	"netkeep/internal/server/servertest"
)

// gatekey-admin's network tool types (internal/adminclient), as it
// decodes them.
type (
	gkNetworkToolRequest struct {
		Tool     string            `json:"tool"`
		Target   string            `json:"target"`
		Port     int               `json:"port,omitempty"`
		Ports    string            `json:"ports,omitempty"`
		Location string            `json:"location,omitempty"`
		Options  map[string]string `json:"options,omitempty"`
	}
	gkNetworkToolResult struct {
		Tool      string `json:"tool"`
		Target    string `json:"target"`
		Status    string `json:"status"`
		Output    string `json:"output"`
		Error     string `json:"error,omitempty"`
		Duration  string `json:"duration"`
		Location  string `json:"location"`
		StartedAt string `json:"startedAt"`
	}
	gkNetworkToolInfo struct {
		Name        string   `json:"name"`
		Description string   `json:"description"`
		Options     []string `json:"options"`
		Required    []string `json:"required,omitempty"`
	}
	gkNetworkToolsInfo struct {
		Tools     []gkNetworkToolInfo `json:"tools"`
		Locations []map[string]string `json:"locations"`
	}
)

const toolsPath = "/api/v1/admin/network-tools"

// runTool runs one tool as gatekey-admin does and decodes the result.
func (f *gwFixture) runTool(tb testing.TB, token string, req gkNetworkToolRequest) gkNetworkToolResult {
	tb.Helper()
	var got gkNetworkToolResult
	decodeAs(tb, f.program(tb, token, "POST", toolsPath+"/execute", req), http.StatusOK, &got)
	if _, err := time.ParseDuration(got.Duration); err != nil {
		tb.Fatalf("duration %q: %v", got.Duration, err)
	}
	if _, err := time.Parse(time.RFC3339, got.StartedAt); err != nil {
		tb.Fatalf("startedAt %q: %v", got.StartedAt, err)
	}
	return got
}

func locationIDs(info gkNetworkToolsInfo) []string {
	var ids []string
	for _, l := range info.Locations {
		ids = append(ids, l["id"])
	}
	return ids
}

// TestNetworkToolsContract replays gatekey-admin's "troubleshoot"
// commands: the list, a real ping of loopback on the server and, relayed
// through a gateway's agent channel, on the gateway; every refusal is a
// clear 4xx or 503 in gatekey-admin's error shape.
func TestNetworkToolsContract(t *testing.T) {
	t.Parallel()
	servertest.Each(t, func(t *testing.T, e *servertest.Env) {
		f := newGWFixture(t, e)
		gw, tok := f.gateway(t, map[string]any{"name": "edge-tools"})
		idle, _ := f.gateway(t, map[string]any{"name": "edge-idle"})
		spoke, spokeTok := f.gateway(t, map[string]any{"name": "branch-tools"})
		hub := want(t, f.do(t, f.admin, "POST", "/api/v1/admin/mesh/hubs", map[string]any{"name": "core-tools", "gateway_id": gw,
			"spokes": []map[string]string{{"type": "gateway", "id": spoke}}}), http.StatusCreated)["id"].(string)
		d := want(t, f.do(t, f.foreign, "POST", "/api/v1/admin/gateways",
			map[string]any{"name": "edge-globex", "hostname": "vpn-b.example.com"}), http.StatusCreated)
		foreignGW, foreignTok := d["id"].(string), d["token"].(string)
		// Tools run on the server only for a server-wide administrator:
		// the server and what it reaches are every group's.
		e.CreateUser(t, "gw-super", password, identity.SuperAdmin, "acme")
		super := login(t, e, "gw-super")

		t.Run("list", func(t *testing.T) {
			var info gkNetworkToolsInfo
			decodeAs(t, f.program(t, f.admin, "GET", toolsPath, nil), http.StatusOK, &info)
			var names []string
			for _, tool := range info.Tools {
				names = append(names, tool.Name)
			}
			if !slices.Equal(names, []string{"ping", "nslookup", "traceroute", "nc", "nmap"}) || info.Tools[3].Required[0] != "port" {
				t.Fatalf("tools = %+v", info.Tools)
			}
			if ids := locationIDs(info); len(ids) != 0 {
				t.Fatalf("a group administrator's locations with no agent connected = %v, want none", ids)
			}
			decodeAs(t, f.program(t, super, "GET", toolsPath, nil), http.StatusOK, &info)
			if ids := locationIDs(info); !slices.Equal(ids, []string{"control-plane"}) {
				t.Fatalf("a server-wide administrator's locations with no agent connected = %v", ids)
			}
			gkErrorOf(t, f.program(t, f.user, "GET", toolsPath, nil), http.StatusForbidden)
			gkErrorOf(t, f.program(t, "", "GET", toolsPath, nil), http.StatusUnauthorized)
		})

		t.Run("ping on the server", func(t *testing.T) {
			got := f.runTool(t, super, gkNetworkToolRequest{Tool: "ping", Target: "127.0.0.1", Options: map[string]string{"count": "1"}})
			if got.Status != "success" || got.Location != "control-plane" || got.Target != "127.0.0.1" ||
				!strings.Contains(got.Output, "1 packets transmitted, 1 received") {
				t.Fatalf("ping = %+v", got)
			}
			f.audited(t, "network-tool.run", "server")
		})

		t.Run("refusals", func(t *testing.T) {
			cases := []struct {
				name   string
				token  string
				req    gkNetworkToolRequest
				status int
			}{
				{"400/shell in target", super, gkNetworkToolRequest{Tool: "ping", Target: "127.0.0.1;id"}, 400},
				{"400/option as target", super, gkNetworkToolRequest{Tool: "ping", Target: "-f"}, 400},
				{"400/space in target", super, gkNetworkToolRequest{Tool: "nslookup", Target: "a b"}, 400},
				{"400/prefix for ping", super, gkNetworkToolRequest{Tool: "ping", Target: "10.0.0.0/24"}, 400},
				{"400/prefix too large", super, gkNetworkToolRequest{Tool: "nmap", Target: "10.0.0.0/16"}, 400},
				{"400/too many ports", super, gkNetworkToolRequest{Tool: "nmap", Target: "127.0.0.1", Ports: "1-65535"}, 400},
				{"400/ports not numbers", super, gkNetworkToolRequest{Tool: "nmap", Target: "127.0.0.1", Ports: "22;id"}, 400},
				{"400/nc without port", super, gkNetworkToolRequest{Tool: "nc", Target: "127.0.0.1"}, 400},
				{"400/count too high", super, gkNetworkToolRequest{Tool: "ping", Target: "127.0.0.1", Options: map[string]string{"count": "11"}}, 400},
				{"400/count not a number", super, gkNetworkToolRequest{Tool: "ping", Target: "127.0.0.1", Options: map[string]string{"count": "x"}}, 400},
				{"400/unknown tool", super, gkNetworkToolRequest{Tool: "bash", Target: "127.0.0.1"}, 400},
				{"400/bad location", f.admin, gkNetworkToolRequest{Tool: "ping", Target: "127.0.0.1", Location: "router:1"}, 400},
				{"403/user", f.user, gkNetworkToolRequest{Tool: "ping", Target: "127.0.0.1"}, 403},
				{"403/group administrator on the server", f.admin, gkNetworkToolRequest{Tool: "ping", Target: "127.0.0.1"}, 403},
				{"404/another group's gateway", f.admin, gkNetworkToolRequest{Tool: "ping", Target: "127.0.0.1", Location: "gateway:" + foreignGW}, 404},
				{"404/unknown hub", f.admin, gkNetworkToolRequest{Tool: "ping", Target: "127.0.0.1", Location: "hub:hub-0000000000000000"}, 404},
				{"404/gateway no spoke of the hub", f.admin, gkNetworkToolRequest{Tool: "ping", Target: "127.0.0.1", Location: "spoke:" + hub + ":" + idle}, 404},
				{"503/no agent connected", f.admin, gkNetworkToolRequest{Tool: "ping", Target: "127.0.0.1", Location: "gateway:" + idle}, 503},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					gkErrorOf(t, f.program(t, tc.token, "POST", toolsPath+"/execute", tc.req), tc.status)
				})
			}
		})

		t.Run("relayed to the gateway's agent", func(t *testing.T) {
			startAgent(t, e, tok, "hub", "core-tools", "ping", "timeout")
			startAgent(t, e, spokeTok, "spoke", "branch-tools", "timeout") // no ping on this host
			startAgent(t, e, foreignTok, "gateway", "edge-globex", "ping", "timeout")
			var info gkNetworkToolsInfo
			decodeAs(t, f.program(t, f.admin, "GET", toolsPath, nil), http.StatusOK, &info)
			ids := locationIDs(info)
			for _, want := range []string{"gateway:" + gw, "gateway:" + spoke, "hub:" + hub, "spoke:" + hub + ":" + spoke} {
				if !slices.Contains(ids, want) {
					t.Fatalf("locations = %v, want %s", ids, want)
				}
			}
			if slices.Contains(ids, "gateway:"+foreignGW) {
				t.Fatalf("another group's gateway is listed: %v", ids)
			}

			for _, loc := range []string{"gateway:" + gw, "hub:" + hub} {
				got := f.runTool(t, f.admin, gkNetworkToolRequest{Tool: "ping", Target: "127.0.0.1", Location: loc,
					Options: map[string]string{"count": "1"}})
				if got.Status != "success" || got.Location != loc || !strings.Contains(got.Output, "1 packets transmitted, 1 received") {
					t.Fatalf("ping from %s = %+v", loc, got)
				}
			}
			f.audited(t, "network-tool.run", "gateway:"+gw)
			// A host without the tool answers a clear error.
			msg := gkErrorOf(t, f.program(t, f.admin, "POST", toolsPath+"/execute", gkNetworkToolRequest{Tool: "ping",
				Target: "127.0.0.1", Location: "spoke:" + hub + ":" + spoke}), http.StatusServiceUnavailable)
			if !strings.Contains(msg, "not installed on gateway branch-tools") {
				t.Fatalf("error = %q", msg)
			}
			// A failing run is a result, not an error.
			got := f.runTool(t, f.admin, gkNetworkToolRequest{Tool: "ping", Target: "no-such-host.invalid", Location: "gateway:" + gw,
				Options: map[string]string{"count": "1"}})
			if got.Status != "error" || !strings.Contains(got.Error, "exit status") || !strings.Contains(got.Output, "no-such-host.invalid") {
				t.Fatalf("ping of an unknown host = %+v", got)
			}
			// Another group's administrator cannot reach the agent.
			gkErrorOf(t, f.program(t, f.foreign, "POST", toolsPath+"/execute", gkNetworkToolRequest{Tool: "ping",
				Target: "127.0.0.1", Location: "gateway:" + gw}), http.StatusNotFound)
		})
	})
}
