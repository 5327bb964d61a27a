package main

import (
	"context"
	"fmt"
)

func cmdMigrate(e env, args []string) int {
	cfg, _, err := loadConfig(e, "migrate", args, nil)
	if err == errHelp {
		return 0
	} else if err != nil {
		return e.fail("%v", err)
	}
	ctx := context.Background()
	db, _, err := openStore(ctx, cfg)
	if err != nil {
		return e.fail("%v", err)
	}
	defer db.Close()
	v, err := db.Migrate(ctx)
	if err != nil {
		return e.fail("%v", err)
	}
	fmt.Fprintf(e.stdout, "database at schema version %d\n", v)
	return 0
}
