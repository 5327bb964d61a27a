package server_test

import (
	"context"
	"fmt"
	"testing"

	"netkeep/internal/catalog"
)

// matrixDiscovery stands in for a container engine in the authorization
// matrix: discovery with no running service, proposals made by Observe.
type matrixDiscovery struct{}

func (matrixDiscovery) Scan(context.Context) ([]catalog.Sighting, error) { return nil, nil }

// appsProposal makes a pending discovery proposal in group A (a labelled
// container on port 8080) and returns its id.
func appsProposal(t *testing.T, w *world) string {
	t.Helper()
	w.n++
	cat := w.e.Server.Catalog
	groupA := w.groupAID
	cat.EnableDiscovery("docker", matrixDiscovery{}, func(context.Context) (int64, error) { return groupA, nil })
	defer cat.DisableDiscovery()
	key := fmt.Sprintf("matrix-%d", w.n)
	err := cat.Observe(context.Background(), catalog.Sighting{Source: "docker", Key: key, Name: key,
		Labels: map[string]string{"nekzus.enable": "true"}, Ports: []catalog.SightedPort{{Port: 8080}}})
	if err != nil {
		t.Fatal(err)
	}
	props, err := cat.Proposals(context.Background(), gatekeyMaster)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range props {
		if p.SourceKey == key {
			return p.ID
		}
	}
	t.Fatalf("no proposal for %s", key)
	return ""
}
