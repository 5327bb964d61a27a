package offboard

import (
	"log/slog"
	"time"

	"netkeep/internal/event"
)

// Service gathers and ends a user's access. Every facet is required except
// the ones a deployment lacks, which are nil and contribute nothing.
type Service struct {
	store    Store
	users    Users
	psks     PSKs
	nas      NAS
	mesh     Mesh
	configs  Configs
	certs    Certificates
	gateways Gateways
	devices  Devices
	keys     APIKeys
	bus      event.Bus
	log      *slog.Logger
	now      func() time.Time
}

// Facets are the services a Service works through.
type Facets struct {
	Users        Users
	PSKs         PSKs
	NAS          NAS
	Mesh         Mesh
	Configs      Configs
	Certificates Certificates
	Gateways     Gateways
	Devices      Devices
	APIKeys      APIKeys
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService returns a Service over st and f; bus carries gateway session
// cuts to the gateways' remote-session channel.
func NewService(st Store, f Facets, bus event.Bus, opts ...Option) *Service {
	s := &Service{
		store: st, users: f.Users, psks: f.PSKs, nas: f.NAS, mesh: f.Mesh, configs: f.Configs,
		certs: f.Certificates, gateways: f.Gateways, devices: f.Devices, keys: f.APIKeys,
		bus: bus, log: slog.Default(), now: time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}
