package store

import (
	"context"

	"netkeep/internal/audit"
	"netkeep/internal/backup"
)

// Backups presents the database to the backup service; Pace bounds its
// SQLite copies (the zero value: as fast as possible). With Child set, each
// backup is taken by that child process at the idle scheduling class;
// without, in this process.
type Backups struct {
	DB    *DB
	Pace  BackupPace
	Child *BackupChild
}

// Backup implements backup.Store.
func (b Backups) Backup(ctx context.Context, path string) (*backup.Contents, error) {
	take := b.DB.Backup
	if b.Child != nil {
		take = func(ctx context.Context, path string, pace BackupPace) (*BackupContents, error) {
			return b.Child.Backup(ctx, b.DB, path, pace)
		}
	}
	c, err := take(ctx, path, b.Pace)
	if err != nil {
		return nil, err
	}
	out := &backup.Contents{SchemaVersion: c.SchemaVersion, Tables: map[string]int64{}, Size: c.Size, SHA256: c.SHA256}
	for _, t := range c.Tables {
		out.Tables[t.Name] = t.Rows
	}
	return out, nil
}

// Restore implements backup.Store.
func (b Backups) Restore(ctx context.Context, path string, tables []string, entry *audit.Entry) error {
	return b.DB.Restore(ctx, path, tables, entry)
}

// Audit implements backup.Store.
func (b Backups) Audit(ctx context.Context, e *audit.Entry) error {
	return b.DB.InTx(ctx, func(tx *Tx) error { return tx.InsertAudit(ctx, e) })
}
