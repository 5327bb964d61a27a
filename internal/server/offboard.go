package server

import (
	"netkeep/internal/offboard"
	"netkeep/internal/store"
)

// newOffboard wires offboarding over the facets' services; gateway session
// cuts go out on the bus (the agent channel relays them).
func (s *Server) newOffboard(d Deps) *offboard.Service {
	return offboard.NewService(store.For[offboard.Tx](d.DB), offboard.Facets{
		Users: s.Identity, PSKs: s.PSKs, NAS: s.RadiusClients, Mesh: s.Mesh, Configs: s.Configs,
		Certificates: s.PKI, Gateways: s.Gateways, Devices: s.Devices, APIKeys: s.APIKeys,
	}, d.Bus, offboard.WithLogger(d.Logger))
}
