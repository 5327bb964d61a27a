package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/backup"
	"netkeep/internal/config"
	"netkeep/internal/store"
)

// cliPrincipal is the operator at the host's shell: whoever may run netkeep
// with its data directory and secret already holds every group's data.
var cliPrincipal = &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin, Username: "cli"}

var cliSource = audit.Source{Actor: "cli"}

// backupService opens the database and the backup service the way serve
// does, without serving; the caller closes what it returns.
func backupService(ctx context.Context, e env, cfg *config.Config) (*backup.Service, func(), error) {
	db, _, err := openStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	bus, err := openBus(ctx, cfg, newLogger(cfg, e))
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	svc := backup.NewService(store.Backups{DB: db}, bus, backup.Config{Dir: cfg.BackupDirectory(),
		Keep: cfg.BackupKeep, MaxAge: cfg.BackupMaxAge, Version: version}, backup.WithLogger(newLogger(cfg, e)))
	return svc, func() { bus.Close(); db.Close() }, nil
}

// cmdBackup takes a backup into the backups directory, or lists them.
func cmdBackup(e env, args []string) int {
	if len(args) > 0 && args[0] == "copy" {
		return cmdBackupCopy(e, args[1:])
	}
	var desc string
	list := len(args) > 0 && args[0] == "list"
	if list {
		args = args[1:]
	}
	cfg, _, err := loadConfig(e, "backup", args, func(fs *flag.FlagSet) {
		fs.StringVar(&desc, "description", "", "what the backup is for")
	})
	if err == errHelp {
		return 0
	} else if err != nil {
		return e.fail("%v", err)
	}
	ctx := context.Background()
	svc, closeAll, err := backupService(ctx, e, cfg)
	if err != nil {
		return e.fail("%v", err)
	}
	defer closeAll()
	if list {
		bs, err := svc.List(ctx, cliPrincipal)
		if err != nil {
			return e.fail("%s", clientMessage(err))
		}
		for _, b := range bs {
			fmt.Fprintf(e.stdout, "%s  %s  %9d bytes  %s\n", b.ID, b.Timestamp.Format("2006-01-02 15:04:05Z"), b.Size, b.Description)
		}
		return 0
	}
	b, err := svc.Create(ctx, cliPrincipal, cliSource, desc)
	if err != nil {
		return e.fail("%s", clientMessage(err))
	}
	fmt.Fprintf(e.stdout, "backup %s\nfile %s/%s.db\nsha256 %s\nsize %d bytes, schema version %d\n",
		b.ID, cfg.BackupDirectory(), b.ID, b.SHA256, b.Size, b.SchemaVersion)
	return 0
}

// cmdBackupCopy is the child process a server takes each backup in
// (store.ServeBackupChild: the arguments and standard input are the
// server's, not an operator's). It stops when the server dies.
func cmdBackupCopy(e env, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := store.ServeBackupChild(ctx, args, e.stdin, e.stdout); err != nil {
		return e.fail("%v", err)
	}
	return 0
}

// ownBinary is the program a backup child runs: on Linux /proc/self/exe,
// the server's own binary even when an upgrade has replaced the file since
// it started (the child must speak this server's protocol); elsewhere the
// path it was started from.
func ownBinary() (string, error) {
	if runtime.GOOS == "linux" {
		return "/proc/self/exe", nil
	}
	return os.Executable()
}

// cmdRestore restores facets of a backup of the backups directory (checked
// against its manifest's checksum). On PostgreSQL running replicas are told
// to reload; a server on the same SQLite file keeps what it loaded, so stop
// it first (or restore through the API).
func cmdRestore(e env, args []string) int {
	var facets string
	cfg, fs, err := loadConfig(e, "restore", args, func(fs *flag.FlagSet) {
		fs.StringVar(&facets, "facets", "all", "comma-separated facets to restore: all, or "+facetNames())
	})
	if err == errHelp {
		return 0
	} else if err != nil {
		return e.fail("%v", err)
	}
	if fs.NArg() != 1 {
		return e.fail("usage: netkeep restore [--facets f1,f2] <backup id>")
	}
	chosen, err := parseFacets(facets)
	if err != nil {
		return e.fail("%v", err)
	}
	ctx := context.Background()
	svc, closeAll, err := backupService(ctx, e, cfg)
	if err != nil {
		return e.fail("%v", err)
	}
	defer closeAll()
	if err := svc.Restore(ctx, cliPrincipal, cliSource, fs.Arg(0), chosen); err != nil {
		return e.fail("%s", clientMessage(err))
	}
	fmt.Fprintf(e.stdout, "restored %s from %s\n", facets, fs.Arg(0))
	return 0
}

func facetNames() string {
	var names []string
	for _, f := range backup.Facets() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

func parseFacets(s string) ([]backup.Facet, error) {
	if s == "all" {
		return backup.Facets(), nil
	}
	var out []backup.Facet
	for _, name := range strings.Split(s, ",") {
		f := backup.Facet(strings.TrimSpace(name))
		known := false
		for _, k := range backup.Facets() {
			known = known || k == f
		}
		if !known {
			return nil, fmt.Errorf("unknown facet %q: use all, or some of %s", name, facetNames())
		}
		out = append(out, f)
	}
	return out, nil
}
