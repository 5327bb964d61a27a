package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// database is a fresh PostgreSQL database for one run.
type database struct {
	admin *sql.DB // connected to the server's maintenance database
	name  string
	url   string
}

// createDatabase creates netkeep_replicas_<random> on the server of
// adminURL (a URL of an existing database, e.g. postgres).
func createDatabase(ctx context.Context, adminURL string) (*database, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, fmt.Errorf("parsing -postgres: %w", err)
	}
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		return nil, err
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := "netkeep_replicas_" + hex.EncodeToString(suffix)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return nil, fmt.Errorf("creating database %s: %w", name, err)
	}
	u.Path = "/" + name
	return &database{admin: admin, name: name, url: u.String()}, nil
}

// drop removes the database, closing the connections still open to it.
func (d *database) drop(ctx context.Context) error {
	defer d.admin.Close()
	_, err := d.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+d.name+" WITH (FORCE)")
	return err
}

// storedPSKs returns the psk_id of every PSK whose psk_id starts with prefix.
func (d *database) storedPSKs(ctx context.Context, prefix string) (map[string]bool, error) {
	db, err := sql.Open("pgx", d.url)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT psk_id FROM psks WHERE psk_id LIKE $1", strings.ReplaceAll(prefix, "_", `\_`)+"%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}
