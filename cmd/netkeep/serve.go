package main

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os/signal"
	"syscall"

	"netkeep/internal/config"
	"netkeep/internal/event"
	"netkeep/internal/fault"
	"netkeep/internal/server"
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

	db, keys, err := openStore(ctx, cfg)
	if err != nil {
		return e.fail("%v", err)
	}
	defer db.Close()
	bus, err := openBus(ctx, cfg)
	if err != nil {
		return e.fail("%v", err)
	}
	defer bus.Close()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return e.fail("listen %s: %v", cfg.Listen, err)
	}
	srv := server.New(server.Deps{Config: cfg, Logger: log, DB: db, Keys: keys, Bus: bus})
	defer srv.Close()
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	log.Info("netkeep listening", "url", scheme+"://"+ln.Addr().String(), "version", version, "data_dir", cfg.DataDir)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	v, err := db.Migrate(ctx)
	if err == nil {
		err = srv.Start(ctx)
	}
	if err != nil {
		stop()
		<-served
		return e.fail("%v", err)
	}
	log.Info("ready", "schema_version", v)
	if has, err := srv.Identity.SetupStatus(ctx); err == nil && !has {
		log.Info("no users yet: create the first admin with `netkeep admin create --username <name>` (password on stdin) or POST /api/v1/auth/setup")
	}

	if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
		return e.fail("serve: %v", err)
	}
	log.Info("stopped")
	return 0
}

// openBus returns the event bus: in-process for SQLite, LISTEN/NOTIFY for
// PostgreSQL so that replicas see each other's changes.
func openBus(ctx context.Context, cfg *config.Config) (event.Bus, error) {
	kind, dsn, err := cfg.Database()
	if err != nil {
		return nil, err
	}
	if kind == config.Postgres {
		return event.NewPostgres(ctx, dsn)
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
