package catalog

import (
	"slices"
	"testing"
)

func TestPropose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Sighting
		want *Proposal // nil: nothing proposed; only the fields set are compared
	}{
		{"nothing/opted out", Sighting{Key: "a", Labels: map[string]string{"nekzus.enable": "false"}, Ports: []SightedPort{{Port: 80}}}, nil},
		{"nothing/no labels no ports", Sighting{Key: "a", HostNetwork: true}, nil},
		{"nothing/labels but no port", Sighting{Key: "a", Labels: map[string]string{"nekzus.enable": "true"}, HostNetwork: true}, nil},
		{"labels/host network", Sighting{Key: "Grafana_1", Name: "Grafana_1", HostNetwork: true, Labels: map[string]string{
			"nekzus.enable": "true", "nekzus.port": "3000", "nekzus.app.name": "Grafana", "nekzus.app.tags": "monitoring, grafana",
		}}, &Proposal{SourceKey: "Grafana_1", Scheme: "http", Host: "127.0.0.1", Port: 3000, Confidence: ConfidenceLabels,
			SuggestedApp: SuggestedApp{ID: "grafana-1", Name: "Grafana"}, SuggestedRoute: SuggestedRoute{PathBase: "/apps/grafana-1/", To: "http://127.0.0.1:3000"},
			Tags: []string{"monitoring", "grafana"}, SecurityNotes: []string{"Service uses HTTP without TLS"}}},
		{"labels/https on a published port", Sighting{Key: "vault", Name: "vault", Labels: map[string]string{"nekzus.app.id": "vault", "nekzus.route.auth": "public"},
			Ports: []SightedPort{{Host: "192.168.1.5", Port: 8443}, {Port: 9999}}},
			&Proposal{Scheme: "https", Host: "192.168.1.5", Port: 8443, Confidence: ConfidenceLabels,
				SuggestedRoute: SuggestedRoute{PathBase: "/apps/vault/", To: "https://192.168.1.5:8443", Auth: AuthPublic},
				SecurityNotes:  []string{"Route is public: netkeep will not ask for credentials"}}},
		{"port/common web port, lower confidence", Sighting{Key: "web", Name: "web", Image: "library/nginx:1.25", Ports: []SightedPort{{Port: 5432}, {Port: 8080}}},
			&Proposal{Scheme: "http", Host: "127.0.0.1", Port: 8080, Confidence: ConfidenceHTTPPort, Tags: []string{"nginx"},
				SuggestedRoute: SuggestedRoute{PathBase: "/apps/web/", To: "http://127.0.0.1:8080"}}},
		{"port/other port, lowest confidence", Sighting{Key: "db", Name: "db", Ports: []SightedPort{{Port: 5432}}},
			&Proposal{Port: 5432, Confidence: ConfidencePort}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Propose(tc.in)
			if (got == nil) != (tc.want == nil) {
				t.Fatalf("Propose = %+v, want %+v", got, tc.want)
			}
			if got == nil {
				return
			}
			w := tc.want
			check := func(field string, ok bool) {
				if !ok {
					t.Errorf("%s: got %+v", field, got)
				}
			}
			check("port", got.Port == w.Port)
			check("confidence", got.Confidence == w.Confidence)
			check("scheme", w.Scheme == "" || got.Scheme == w.Scheme)
			check("host", w.Host == "" || got.Host == w.Host)
			check("app", w.SuggestedApp == (SuggestedApp{}) || got.SuggestedApp == w.SuggestedApp)
			check("route", w.SuggestedRoute.To == "" || (got.SuggestedRoute.To == w.SuggestedRoute.To && got.SuggestedRoute.PathBase == w.SuggestedRoute.PathBase && got.SuggestedRoute.Auth == w.SuggestedRoute.Auth))
			check("tags", w.Tags == nil || slices.Equal(got.Tags, w.Tags))
			check("notes", w.SecurityNotes == nil || slices.Equal(got.SecurityNotes, w.SecurityNotes))
			check("ports", len(got.Ports) == len(tc.in.Ports) || (len(tc.in.Ports) == 0 && len(got.Ports) == 1))
		})
	}
}

func TestParseRouteFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		apps     int
		wantErr  bool
	}{
		{"yaml", "routes:\n  - appId: grafana\n    to: http://127.0.0.1:3000\n    timeout: 10s\n    websocket: true\n", 1, false},
		{"json", `{"routes": [{"appId": "a", "to": "http://a"}, {"appId": "b", "to": "http://b", "scopes": ["read:catalog"]}]}`, 2, false},
		{"empty", "", 0, true},
		{"unknown key", "routes:\n  - appId: a\n    too: http://a\n", 0, true},
		{"twice", "routes:\n  - appId: a\n    to: http://a\n  - appId: a\n    to: http://b\n", 0, true},
		{"bad timeout", "routes:\n  - appId: a\n    to: http://a\n    timeout: soon\n", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRouteFile([]byte(tc.in))
			if (err != nil) != tc.wantErr || (err == nil && len(got) != tc.apps) {
				t.Errorf("ParseRouteFile = %d routes, %v", len(got), err)
			}
		})
	}
}
