package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"netkeep/internal/config"
	"netkeep/internal/secret"
	"netkeep/internal/store"
)

// loadConfig parses a subcommand's flags over the environment and validates.
// It returns errHelp when --help was asked (usage already printed).
func loadConfig(e env, name string, args []string, extra func(fs *flag.FlagSet)) (*config.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("netkeep "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	l := config.Bind(fs)
	if extra != nil {
		extra(fs)
	}
	cfg, err := l.Load(args, e.lookupEnv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, errHelp
		}
		return nil, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	return cfg, fs, nil
}

var errHelp = errors.New("help requested")

// prepareDataDir makes sure the data directory exists and is usable.
func prepareDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data-dir %s: %v", dir, unwrapPath(err))
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data-dir %s: %v", dir, unwrapPath(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("data-dir %s: not a directory", dir)
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("data-dir %s: not writable: %v", dir, unwrapPath(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// openStore prepares the data dir and secret, and opens the database.
func openStore(ctx context.Context, cfg *config.Config) (*store.DB, *secret.Keys, error) {
	if err := prepareDataDir(cfg.DataDir); err != nil {
		return nil, nil, err
	}
	keys, err := secret.Load(cfg.DataDir, cfg.SecretKey)
	if err != nil {
		return nil, nil, err
	}
	kind, dsn, err := cfg.Database()
	if err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, kind, dsn)
	if err != nil {
		return nil, nil, err
	}
	return db, keys, nil
}

func newLogger(cfg *config.Config, e env) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}
