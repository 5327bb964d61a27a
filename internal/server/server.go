// Package server is netkeep's composition root for HTTP: it builds the domain
// services over one store and event bus, registers every dialect's routes
// and the probes on one api.Router, wraps them in the shared middleware, and
// runs the http.Server with timeouts and graceful shutdown. cmd/netkeep and
// the API tests both start servers through it, so tests run what ships.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"netkeep/internal/activity"
	"netkeep/internal/api"
	"netkeep/internal/api/gatekey"
	"netkeep/internal/api/live"
	"netkeep/internal/api/nekzus"
	"netkeep/internal/api/netkey"
	"netkeep/internal/api/netmaker"
	"netkeep/internal/api/netrecon"
	"netkeep/internal/api/own"
	"netkeep/internal/apikey"
	"netkeep/internal/authz"
	"netkeep/internal/automation"
	"netkeep/internal/backup"
	"netkeep/internal/catalog"
	"netkeep/internal/config"
	"netkeep/internal/container"
	"netkeep/internal/device"
	"netkeep/internal/docker"
	"netkeep/internal/event"
	"netkeep/internal/federation"
	"netkeep/internal/gateway"
	"netkeep/internal/geo"
	"netkeep/internal/hostinfo"
	"netkeep/internal/identity"
	"netkeep/internal/mesh"
	"netkeep/internal/peering"
	"netkeep/internal/pki"
	"netkeep/internal/proxy"
	"netkeep/internal/psk"
	"netkeep/internal/radius"
	"netkeep/internal/radius/dae"
	"netkeep/internal/radius/nas"
	"netkeep/internal/ratelimit"
	"netkeep/internal/remote"
	"netkeep/internal/secret"
	"netkeep/internal/sso"
	"netkeep/internal/store"
	"netkeep/internal/tlscert"
	"netkeep/internal/toolbox"
	"netkeep/internal/vpnconfig"
	"netkeep/internal/wg"
)

// Server is one netkeep HTTP server and the services behind it.
type Server struct {
	cfg     *config.Config
	log     *slog.Logger
	db      *store.DB
	bus     event.Bus // nil in some tests
	metrics *api.Metrics
	router  *api.Router
	handler http.Handler
	ready   atomic.Bool
	// readyCh is closed when ready is set; held counts the requests the
	// gate holds meanwhile (see awaitReady).
	readyCh chan struct{}
	held    atomic.Int64
	// ipLimiter counts requests per client address (Nekzus's table).
	ipLimiter *ratelimit.Limiter

	background     sync.WaitGroup
	closeOnce      sync.Once
	stopBackground context.CancelFunc

	Identity *identity.Service
	APIKeys  *apikey.Service
	PKI      *pki.Service
	PSKs     *psk.Service
	Mesh     *mesh.Service
	// Gateways is GateKey's VPN gateways, networks, access rules, hubs and
	// sessions.
	Gateways *gateway.Service
	// Configs is GateKey's VPN client configurations.
	Configs *vpnconfig.Service
	// SSO is single sign-on: identity providers and the OAuth2 provider.
	SSO *sso.Service
	// Geo is geo-fencing, asked at every login and gateway verification.
	Geo *geo.Service
	// Remote is administrators' network tools and remote sessions, on
	// this server or on gateways through their agents' channels.
	Remote *remote.Service
	// Devices is Nekzus's QR pairing, paired devices and their cookies.
	Devices *device.Service

	// RADIUS: the NAS client domain, the in-memory directory the packet
	// path reads, and the UDP server (cmd/netkeep serves its sockets).
	RadiusClients *nas.Service
	RadiusIndex   *radius.Index
	Radius        *radius.Server

	// Catalog is Nekzus's apps, routes, health and discovery; Upstreams
	// makes its health probes and favicon fetches.
	Catalog   *catalog.Service
	Upstreams *proxy.Client
	// Backups are copies of the whole database, taken on demand and on
	// a schedule.
	Backups     *backup.Service
	backupChild *store.BackupChild // nil: backups in this process
	// Scripts are the scripts directory's registered scripts and their
	// runs; asynchronous runs end with stopScripts (Close).
	Scripts     *automation.Service
	stopScripts context.CancelFunc
	// Activity is the activity feed and webhooks; Live the WebSocket
	// event stream's hub (which devices are online on this replica).
	Activity *activity.Service
	Live     *live.Hub
	// Toolbox deploys templates on the Docker engine and exports
	// containers; its deployments end with stopToolbox (Close).
	Toolbox     *toolbox.Service
	projects    *docker.Projects
	stopToolbox context.CancelFunc
	// Federation is the trust between this instance and its peers and
	// the sharing of their catalogs (federation.go).
	Federation *federation.Service
	peerLinks  *peering.Links
	proxy      *proxy.Proxy
	// Containers is the container runtimes' management (Docker);
	// dockerRuntime is its engine, closed (ending its stats feeds) by
	// Close.
	Containers    *container.Service
	dockerRuntime *docker.Runtime
	// Certs are the certificates the HTTPS listener (--tls-listen)
	// serves, issued by the CA and reloaded without a restart.
	Certs *tlscert.Service
}

// Deps are what the server is built from.
type Deps struct {
	Config *config.Config
	Logger *slog.Logger
	DB     *store.DB
	Keys   *secret.Keys
	Bus    event.Bus
	// PasswordParams overrides the argon2id cost (tests); zero means default.
	PasswordParams identity.PasswordParams
	// Version and BuildDate describe the build (GET /api/v1/admin/info,
	// /api/v1/server/info); Version is also written into backups.
	Version, BuildDate string
	// GeoIP locates addresses for geo-fencing (the --geoip-db database);
	// nil: every country is unknown.
	GeoIP geo.Locator
	// BackupChild is the command that takes backups in a child process at
	// the idle scheduling class (store.BackupChild: `netkeep backup copy`,
	// one process reused from backup to backup, ended by Close); nil:
	// backups are taken in this process.
	BackupChild []string
}

// New builds the server, its services and routes. It is not ready (readyz
// 503, API 503) until Start has run after migrations.
func New(d Deps) *Server {
	s := &Server{cfg: d.Config, log: d.Logger, db: d.DB, bus: d.Bus, metrics: api.NewMetrics(), readyCh: make(chan struct{})}
	var idOpts []identity.Option
	if d.PasswordParams.MemoryKiB != 0 {
		idOpts = append(idOpts, identity.WithPasswordParams(d.PasswordParams))
	}
	s.Geo = geo.NewService(store.For[geo.Tx](d.DB), d.GeoIP, geo.WithLogger(d.Logger))
	idOpts = append(idOpts, identity.WithLogger(d.Logger), identity.WithLoginGate(s.Geo.AdmitLogin))
	idCfg := identity.DefaultConfig()
	idCfg.AccessTTL, idCfg.RefreshGrace = d.Config.AccessTokenTTL, d.Config.RefreshGrace
	s.Identity = identity.NewService(store.For[identity.Tx](d.DB), d.Keys, d.Bus, idCfg, idOpts...)
	s.APIKeys = apikey.NewService(store.For[apikey.Tx](d.DB), d.Bus, userLookup{s.Identity})
	pkiCfg := pki.DefaultConfig()
	pkiCfg.ClientTTL = d.Config.ClientConfigTTL // 0 (unset): the default
	s.PKI = pki.NewService(store.For[pki.Tx](d.DB), d.Keys, d.Bus, pkiCfg, pki.WithLogger(d.Logger))

	info, err := deviceInfo(d.Config, d.Keys)
	if err != nil {
		d.Logger.Error("pairing devices get no SPKI pin", "err", err)
	}
	s.Devices = device.NewService(store.For[device.Tx](d.DB), d.Keys, d.Bus, userLookup{s.Identity},
		device.Config{RefreshGrace: d.Config.RefreshGrace, Info: info}, device.WithLogger(d.Logger))
	trusted, _ := d.Config.LocalTrustNetworks() // validated with the config
	auth := &api.Authenticator{Access: s.Identity, Keys: s.APIKeys, MasterKey: d.Config.MasterKey, Web: s.Identity, Sessions: ratelimit.New(time.Now),
		Devices: s.Devices, Local: &api.LocalTrust{Networks: trusted, TrustProxyHeaders: d.Config.TrustProxyHeaders,
			Role: authz.Role(d.Config.LocalTrustRole)}}
	s.router = api.NewRouter(auth)
	s.ipLimiter = ratelimit.New(time.Now)
	s.routes()
	authLimiter := ratelimit.New(time.Now)
	if d.BackupChild != nil {
		s.backupChild = store.NewBackupChild(d.BackupChild)
	}
	s.Backups = backup.NewService(store.Backups{DB: d.DB, Pace: store.DefaultBackupPace, Child: s.backupChild}, d.Bus, backup.Config{Dir: d.Config.BackupDirectory(),
		Keep: d.Config.BackupKeep, MaxAge: d.Config.BackupMaxAge, Interval: d.Config.BackupInterval, Version: d.Version},
		backup.WithLogger(d.Logger))
	scriptsCtx, stopScripts := context.WithCancel(context.Background())
	s.stopScripts = stopScripts
	s.Scripts = automation.NewService(scriptsCtx, store.For[automation.Tx](d.DB), scriptRunner{},
		automation.Config{Dir: d.Config.ScriptsDir}, d.Logger, automation.WithBus(d.Bus))
	s.Certs = newCerts(d, s.PKI)
	oauth2, ownSSO, gatekeySSO := s.newSSO(d, auth)
	liveHandlers := s.newLive(d, auth)
	(&nekzus.Handlers{Identity: s.Identity, Keys: s.APIKeys, AuthLimiter: authLimiter, AuthLimit: d.Config.NekzusAuthLimit,
		LoginFailures: loginFailures(d.Config), Backups: s.Backups, Host: host{Reader: hostinfo.New(d.Config.DataDir), db: d.DB}, Scripts: s.Scripts, Workflows: s.Scripts, Live: liveHandlers, Certificates: s.Certs,
		Devices: s.Devices, IPLimiter: s.ipLimiter, PublicURL: d.Config.PublicURL, TrustProxyHeaders: d.Config.TrustProxyHeaders,
		Presence: s.Live}).Register(s.router)
	(&netrecon.Handlers{Keys: s.APIKeys, OAuth2: oauth2, Limiter: authLimiter}).Register(s.router)
	s.Gateways = gateway.NewService(store.For[gateway.Tx](d.DB), s.PKI, d.Keys, d.Bus, gateway.WithLogger(d.Logger),
		gateway.WithAddressGate(s.Geo.AdmitGateway))
	s.Configs = vpnconfig.NewService(store.For[vpnconfig.Tx](d.DB), s.Gateways, s.PKI, d.Keys,
		vpnconfig.WithTTL(d.Config.ClientConfigTTL), vpnconfig.WithLogger(d.Logger))
	channel := &gatekey.AgentChannel{Bus: d.Bus, Log: d.Logger}
	s.Remote = remote.NewService(store.For[remote.Tx](d.DB), s.Gateways, toolRunner{}, remote.WithAgents(channel),
		remote.WithLogger(d.Logger))
	gk := &gatekey.Handlers{Identity: s.Identity, PKI: s.PKI, Gateways: s.Gateways, Configs: s.Configs, Remote: s.Remote,
		Geo: s.Geo, Keys: s.APIKeys, Version: d.Version, PublicURL: d.Config.PublicURL, TrustProxyHeaders: d.Config.TrustProxyHeaders, Limiter: authLimiter, LoginFailures: loginFailures(d.Config), SSO: gatekeySSO, WebLogin: d.Config.GateKeyWebLogin,
		Providers: loginProviders{s.SSO}, Channel: channel}
	s.PSKs = psk.NewService(store.For[psk.Tx](d.DB), d.Keys, d.Bus, psk.WithLogger(d.Logger))
	s.RadiusClients = nas.NewService(store.For[nas.Tx](d.DB), d.Keys, d.Bus, nas.WithLogger(d.Logger),
		nas.WithDisconnector(daeSender{c: &dae.Client{}}))
	s.RadiusIndex = radius.NewIndex(radius.FromPSK(s.PSKs), s.RadiusClients, d.Bus,
		radius.WithPMKStore(store.For[radius.PMKTx](d.DB), d.Keys), radius.WithIndexLogger(d.Logger))
	s.Radius = radius.New(radius.Config{Directory: s.RadiusIndex, Clients: s.RadiusIndex, Index: s.RadiusIndex,
		Accounting: s.RadiusClients, Registry: s.metrics.Registry, Logger: d.Logger})
	(&netkey.Handlers{Identity: s.Identity, AuthLimiter: authLimiter, LoginFailures: loginFailures(d.Config), PSKs: s.PSKs, Clients: s.RadiusClients,
		ImportTimeout: d.Config.ImportTimeout}).Register(s.router)
	(&netmaker.Handlers{Identity: s.Identity, Auth: auth, AuthLimiter: authLimiter, LoginFailures: loginFailures(d.Config)}).Register(s.router)
	s.Mesh = mesh.NewService(store.For[mesh.Tx](d.DB), d.Bus, s.Identity.Signer(), d.Keys,
		mesh.WithLogger(d.Logger), mesh.WithPasswordParams(d.PasswordParams), mesh.WithNodePasswordKey(d.Keys.NodePasswordKey()))
	(&netmaker.MeshHandlers{Mesh: s.Mesh, Auth: auth, AuthLimiter: authLimiter,
		TrustProxyHeaders: d.Config.TrustProxyHeaders, PublicURL: d.Config.PublicURL}).Register(s.router)
	// Offboarding works through every facet, so it is wired when they all
	// exist; GateKey's handlers revoke a user's configurations through it.
	off := s.newOffboard(d)
	gk.UserConfigs = off
	gk.Register(s.router)
	(&own.Handlers{Identity: s.Identity, SSO: ownSSO, Offboard: off}).Register(s.router)
	s.dashboard(d, auth)
	s.registerApps(d, auth)
	s.registerToolbox(d)
	s.registerFederation(d)
	s.registerContainers(d)

	s.handler = api.Wrap(s.gate(s.router), api.Options{
		Logger:            d.Logger,
		Metrics:           s.metrics,
		MaxBodyBytes:      d.Config.MaxBodyBytes,
		TrustProxyHeaders: d.Config.TrustProxyHeaders,
	})
	return s
}

// Start starts the services' background work (event followers, flushers)
// and opens the API. Call it after migrations and once; Close undoes it.
// Requests held for the start (awaitReady) are released when it returns,
// served if it succeeded, answered 503 if it failed.
func (s *Server) Start(ctx context.Context) error {
	defer close(s.readyCh)
	if err := s.Identity.Start(ctx); err != nil {
		return err
	}
	// Creates the CA on first start (once across replicas) and loads the CRL.
	if err := s.PKI.Start(ctx); err != nil {
		return err
	}
	if err := s.Certs.Start(ctx); err != nil {
		return err
	}
	if err := s.RadiusIndex.Start(ctx); err != nil {
		return err
	}
	if err := s.Mesh.Start(ctx); err != nil { // loads every network's state
		return err
	}
	if err := s.Devices.Start(ctx); err != nil {
		return err
	}
	if err := s.applySSOProviders(ctx); err != nil {
		return err
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stopBackground = cancel
	s.background.Go(func() { s.Live.Run(bg) })  // closes the sockets when stopped
	s.background.Go(func() { s.Certs.Run(bg) }) // other replicas' certificate changes
	if err := s.startApps(ctx, bg); err != nil {
		cancel()
		return err
	}
	if err := s.startFederation(ctx, bg); err != nil {
		cancel()
		return err
	}
	s.background.Go(func() { s.Containers.Watch(bg, containerEventsRetry) }) // state changes made outside netkeep
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		if err := s.APIKeys.Run(bg); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("API key last-use flusher", "err", err)
		}
	}()
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		s.PSKs.Run(bg) // the expiry sweep
	}()
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		if err := s.Mesh.Run(bg); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("mesh check-in flusher", "err", err)
		}
	}()
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		s.Backups.Run(bg) // scheduled backups, when an interval is set
	}()
	if s.cfg.ScriptsDir != "" {
		s.background.Add(1)
		go func() {
			defer s.background.Done()
			s.Scripts.RunSchedules(bg, time.Second) // script and workflow schedules
		}()
	}
	if s.cfg.MeshInterfaces {
		s.background.Add(1)
		go func() {
			defer s.background.Done()
			(&mesh.ServerNodes{Mesh: s.Mesh, Log: s.log, Open: func(name string, log *slog.Logger) (mesh.ServerTunnel, error) {
				return wg.OpenTunnel(name, log)
			}}).Run(bg) // the server's own mesh nodes
		}()
	}
	s.ready.Store(true)
	return nil
}

// Close stops background work, waiting for it to flush what is buffered
// (API keys' last use), and closes the services. Calls after the first do
// nothing.
func (s *Server) Close() { s.closeOnce.Do(s.close) }

func (s *Server) close() {
	if s.stopBackground != nil {
		s.stopBackground()
	}
	s.stopScripts()
	s.closeToolbox()
	s.background.Wait()
	if s.backupChild != nil {
		s.backupChild.Close()
	}
	s.Containers.Wait()
	if s.dockerRuntime != nil {
		_ = s.dockerRuntime.Close()
	}
	s.Identity.Close()
	s.APIKeys.Close()
	s.PKI.Close()
	s.Certs.Close()
	s.RadiusIndex.Close()
	s.Mesh.Close()
	s.Devices.Close()
}

// Handler is the complete HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes lists every registered route.
func (s *Server) Routes() []api.Route { return s.router.Routes() }

// gate answers 503 on everything but the probes and metrics until ready.
// A request arriving while the server starts first waits up to
// --start-hold for it (awaitReady): after a restart every agent of a mesh
// reconnects at once, and answering them 503 sent each into its backoff
// (a second or more) although the server was ready a fraction of a second
// later.
func (s *Server) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			switch r.URL.Path {
			case "/healthz", "/livez", "/readyz", "/metrics":
			default:
				if s.awaitReady(r.Context()) {
					break
				}
				w.Header().Set("Retry-After", "1")
				api.Error(w, r, errStarting)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// maxStartHeld bounds the requests awaitReady holds at once; each holds
// its connection and a goroutine (~10 KiB), so at most ~160 MiB. Past it
// a request is answered 503 at once, as without a hold.
const maxStartHeld = 16384

// awaitReady waits, up to the configured start hold, for Start to finish
// or for the request to end; it reports whether the server is ready.
func (s *Server) awaitReady(ctx context.Context) bool {
	if s.cfg.StartHold <= 0 {
		return false
	}
	if s.held.Add(1) > maxStartHeld {
		s.held.Add(-1)
		return false
	}
	defer s.held.Add(-1)
	t := time.NewTimer(s.cfg.StartHold)
	defer t.Stop()
	select {
	case <-s.readyCh:
	case <-t.C:
	case <-ctx.Done():
	}
	return s.ready.Load()
}

// Serve serves on ln until ctx is cancelled, then stops accepting, lets
// in-flight requests finish within the shutdown timeout, and returns. It
// serves HTTPS with --tls-cert and --tls-key when they are set.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.cfg.TLSCert != "" {
		return s.serve(ctx, ln, &tls.Config{}, s.cfg.TLSCert, s.cfg.TLSKey)
	}
	return s.serve(ctx, ln, nil, "", "")
}

// serve serves plain HTTP on ln, or HTTPS with tlsConfig and the
// certificate files (none when tlsConfig picks the certificate).
func (s *Server) serve(ctx context.Context, ln net.Listener, tlsConfig *tls.Config, certFile, keyFile string) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	return s.serveUntil(ctx, hs, func() error {
		if tlsConfig != nil {
			hs.TLSConfig = tlsConfig
			return hs.ServeTLS(ln, certFile, keyFile)
		}
		return hs.Serve(ln)
	})
}

// serveUntil runs serve (one of hs's Serve methods) until ctx is
// cancelled, then stops accepting and lets in-flight requests finish
// within the shutdown timeout.
func (s *Server) serveUntil(ctx context.Context, hs *http.Server, serve func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
