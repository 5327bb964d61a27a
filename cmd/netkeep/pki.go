package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"netkeep/internal/audit"
	"netkeep/internal/pki"
	"netkeep/internal/store"
)

const pkiUsage = "usage: netkeep pki import --cert ca.pem --key ca-key.pem [--force]"

// cmdPKI manages the certificate authority: "pki import" makes an existing
// CA (PEM certificate and unencrypted key) the one netkeep issues from.
func cmdPKI(e env, args []string) int {
	if len(args) == 0 || args[0] != "import" {
		return e.fail(pkiUsage)
	}
	var certFile, keyFile string
	var force bool
	cfg, _, err := loadConfig(e, "pki import", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&certFile, "cert", "", "PEM file with the CA certificate (required)")
		fs.StringVar(&keyFile, "key", "", "PEM file with the CA's unencrypted private key (required)")
		fs.BoolVar(&force, "force", false, "replace a CA that has issued certificates, revoking them")
	})
	if err == errHelp {
		return 0
	} else if err != nil {
		return e.fail("%v", err)
	}
	if certFile == "" || keyFile == "" {
		return e.fail("pki import: --cert and --key are required")
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return e.fail("pki import: %v", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return e.fail("pki import: %v", err)
	}
	ctx := context.Background()
	db, keys, err := openStore(ctx, cfg)
	if err != nil {
		return e.fail("%v", err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return e.fail("%v", err)
	}
	// On PostgreSQL the bus tells running replicas at once; otherwise they
	// notice the new CA at their next sync (within a minute).
	log := newLogger(cfg, e)
	bus, err := openBus(ctx, cfg, log)
	if err != nil {
		return e.fail("%v", err)
	}
	defer bus.Close()
	svc := pki.NewService(store.For[pki.Tx](db), keys, bus, pki.DefaultConfig(), pki.WithLogger(log))
	res, err := svc.Import(ctx, audit.Source{Actor: "cli", IP: "local"}, certPEM, keyPEM, force)
	if err != nil {
		return e.fail("pki import: %s", clientMessage(err))
	}
	switch {
	case res.Unchanged:
		fmt.Fprintf(e.stdout, "%s is already the active CA\n", res.CA)
	case res.Replaced != "":
		fmt.Fprintf(e.stdout, "imported CA %s, replacing SHA-256 %s", res.CA, res.Replaced)
		if res.Revoked > 0 {
			fmt.Fprintf(e.stdout, "; revoked %d certificates it had issued", res.Revoked)
		}
		fmt.Fprintln(e.stdout)
	default:
		fmt.Fprintf(e.stdout, "imported CA %s\n", res.CA)
	}
	return 0
}
