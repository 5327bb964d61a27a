package server

import (
	"context"

	"netkeep/internal/hostinfo"
	"netkeep/internal/store"
)

// host is the host's resources beside the database's size.
type host struct {
	*hostinfo.Reader
	db *store.DB
}

func (h host) StorageSize(ctx context.Context) (int64, error) { return h.db.Size(ctx) }
