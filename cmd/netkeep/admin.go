package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"strings"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/identity"
	"netkeep/internal/store"
)

func cmdAdmin(e env, args []string) int {
	if len(args) == 0 || args[0] != "create" {
		return e.fail("usage: netkeep admin create --username U [--password P] [--email E]")
	}
	var username, password, email string
	cfg, _, err := loadConfig(e, "admin create", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "username of the new SUPER_ADMIN (required)")
		fs.StringVar(&password, "password", "", "password (read from stdin when omitted)")
		fs.StringVar(&email, "email", "", "email address")
	})
	if err == errHelp {
		return 0
	} else if err != nil {
		return e.fail("%v", err)
	}
	if username == "" {
		return e.fail("admin create: --username is required")
	}
	if password == "" {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && line == "" {
			return e.fail("admin create: no --password and none on stdin")
		}
		password = strings.TrimRight(line, "\r\n")
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
	// The bus reaches no running server; servers load users on demand.
	svc := identity.NewService(store.For[identity.Tx](db), keys, nil, identity.DefaultConfig())
	// Whoever can run this against the database is its operator: the
	// command acts with the master key's authority.
	operator := &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin, Username: "cli"}
	u, err := svc.CreateSuperAdmin(ctx, operator, audit.Source{Actor: "cli", IP: "local"}, username, password, email)
	if err != nil {
		return e.fail("admin create: %s", clientMessage(err))
	}
	fmt.Fprintf(e.stdout, "created SUPER_ADMIN %q (id %d) in group %q\n", u.Username, u.ID, u.GroupName)
	return 0
}
