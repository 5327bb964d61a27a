package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"netkeep/internal/config"
	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/geo"
	"netkeep/internal/radius"
	"netkeep/internal/server"
	"netkeep/internal/store/pgbus"
)

func cmdServe(e env, args []string) int {
	cfg, _, err := loadConfig(e, "serve", args, nil)
	if err == errHelp {
		return 0
	} else if err != nil {
		return e.fail("%v", err)
	}
	if cfg.TLSCert != "" {
		// Fail before listening or migrating, with one line, not after "ready".
		if _, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			return e.fail("tls: %v", err)
		}
	}
	log := newLogger(cfg, e)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// SIGHUP is caught from here on: /readyz answers 200 before the reload
	// loop below runs, and an uncaught SIGHUP would end the process. One
	// that arrives before then is served once the loop starts.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	db, keys, err := openStore(ctx, cfg)
	if err != nil {
		return e.fail("%v", err)
	}
	defer db.Close()
	bus, err := openBus(ctx, cfg, log)
	if err != nil {
		return e.fail("%v", err)
	}
	defer bus.Close()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return e.fail("listen %s: %v", cfg.Listen, err)
	}
	var tlsLn net.Listener
	if cfg.TLSListen != "" {
		if tlsLn, err = net.Listen("tcp", cfg.TLSListen); err != nil {
			ln.Close()
			return e.fail("tls-listen %s: %v", cfg.TLSListen, err)
		}
	}
	fedLn, err := listenFederation(cfg)
	if err != nil {
		ln.Close()
		if tlsLn != nil {
			tlsLn.Close()
		}
		return e.fail("%v", err)
	}
	deps := server.Deps{Config: cfg, Logger: log, DB: db, Keys: keys, Bus: bus, Version: version, BuildDate: buildDate}
	if exe, err := ownBinary(); err == nil {
		deps.BackupChild = []string{exe, "backup", "copy"}
	} else {
		log.Warn("backups are taken in the server's process", "err", err)
	}
	if cfg.GeoIPDB != "" {
		mmdb, err := geo.OpenMMDB(cfg.GeoIPDB)
		if err != nil {
			return e.fail("%v", err)
		}
		defer mmdb.Close()
		deps.GeoIP = mmdb
	}
	srv := server.New(deps)
	defer srv.Close()
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	log.Info("netkeep listening", "url", scheme+"://"+ln.Addr().String(), "version", version, "data_dir", cfg.DataDir)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	var servedTLS chan error // nil without --tls-listen: never ready
	if tlsLn != nil {
		servedTLS = make(chan error, 1)
		log.Info("netkeep listening", "url", "https://"+tlsLn.Addr().String(), "certificates", "generated through the API")
		go func() { servedTLS <- srv.ServeHTTPS(ctx, tlsLn) }()
	}
	// wait stops both listeners once either has ended and joins their
	// errors.
	wait := func() error {
		var err error
		select {
		case err = <-served:
			stop()
			if servedTLS != nil {
				err = errors.Join(err, <-servedTLS)
			}
		case err = <-servedTLS:
			stop()
			err = errors.Join(err, <-served)
		}
		return err
	}

	v, err := db.Migrate(ctx)
	if err == nil {
		err = srv.Start(ctx)
	}
	if err != nil {
		stop()
		_ = wait()
		return e.fail("%v", err)
	}
	log.Info("ready", "schema_version", v)
	radiusDone := serveRadius(ctx, log, cfg, srv)
	fedDone := serveFederation(ctx, log, srv, fedLn)
	if has, err := srv.Identity.SetupStatus(ctx); err == nil && !has {
		log.Info("no users yet: create the first admin with `netkeep admin create --username <name>` (password on stdin) or POST /api/v1/auth/setup")
	}

	ended := make(chan error, 1)
	go func() { ended <- wait() }()
	for reloading := true; reloading; {
		select {
		case err = <-ended:
			reloading = false
		case <-hup:
			reloadOnSignal(ctx, log, srv)
		}
	}
	stop()
	<-radiusDone
	<-fedDone
	if err != nil && !errors.Is(err, context.Canceled) {
		return e.fail("serve: %v", err)
	}
	log.Info("stopped")
	return 0
}

// reloadOnSignal re-reads the reloadable configuration (SIGHUP); a file
// that fails is logged and its old state kept, the process keeps serving.
func reloadOnSignal(ctx context.Context, log *slog.Logger, srv *server.Server) {
	done, err := srv.Reload(ctx)
	if err != nil {
		log.Error("reload", "reloaded", done.Files, "err", err)
		return
	}
	log.Info("configuration reloaded", "files", done.Files)
}

// serveRadius serves RADIUS authentication and accounting on the configured
// UDP addresses until ctx ends; the returned channel closes when it has
// stopped and flushed accounting. An address that cannot be bound is
// logged and left out rather than failing the HTTP server.
func serveRadius(ctx context.Context, log *slog.Logger, cfg *config.Config, srv *server.Server) <-chan struct{} {
	done := make(chan struct{})
	bind := func(what, addr string) []*net.UDPConn {
		if addr == "" {
			return nil
		}
		conns, err := radius.Listen(ctx, addr)
		if err != nil {
			log.Error("RADIUS "+what+" listener disabled", "addr", addr, "err", err)
			return nil
		}
		log.Info("RADIUS "+what+" listening", "addr", conns[0].LocalAddr().String(), "sockets", len(conns))
		return conns
	}
	auth, acct := bind("authentication", cfg.RadiusListen), bind("accounting", cfg.RadiusAcctListen)
	if auth == nil && acct == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		if err := srv.Radius.Serve(ctx, auth, acct); err != nil {
			log.Error("RADIUS server stopped", "err", err)
		}
	}()
	return done
}

// listenFederation opens the federation listener when one is configured,
// before anything else starts, so a taken port fails the start; peers are
// told its address unless --federation-url says otherwise.
func listenFederation(cfg *config.Config) (net.Listener, error) {
	if cfg.FederationListen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.FederationListen)
	if err != nil {
		return nil, fmt.Errorf("federation-listen %s: %w", cfg.FederationListen, err)
	}
	if cfg.FederationURL == "" {
		cfg.FederationURL = "https://" + ln.Addr().String()
	}
	return ln, nil
}

// serveFederation serves the peers' mutual-TLS listener until ctx ends;
// the returned channel closes when it has stopped.
func serveFederation(ctx context.Context, log *slog.Logger, srv *server.Server, ln net.Listener) <-chan struct{} {
	done := make(chan struct{})
	if ln == nil {
		close(done)
		return done
	}
	log.Info("federation listening", "url", srv.Federation.URL(), "peer_id", srv.Federation.LocalPeerID())
	go func() {
		defer close(done)
		if err := srv.ServeFederation(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("federation listener stopped", "err", err)
		}
	}()
	return done
}

// openBus returns the event bus: in-process for SQLite, LISTEN/NOTIFY for
// PostgreSQL so that replicas see each other's changes.
func openBus(ctx context.Context, cfg *config.Config, log *slog.Logger) (event.Bus, error) {
	kind, dsn, err := cfg.Database()
	if err != nil {
		return nil, err
	}
	if kind == config.Postgres {
		return pgbus.New(ctx, dsn, pgbus.WithLogger(log))
	}
	return event.NewLocal(), nil
}

// clientMessage is an error's client-safe message (the full error for
// internal ones, since the CLI user is the operator).
func clientMessage(err error) string {
	if fe := fault.As(err); fe != nil && fe.Code != fault.Internal {
		return fe.Message
	}
	return err.Error()
}
