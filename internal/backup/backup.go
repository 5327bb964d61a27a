// Package backup keeps netkeep's backups: consistent online copies of the
// whole database in a directory, each with a manifest and a SHA-256
// checksum, pruned by count and age, taken on demand or on a schedule, and
// restored atomically facet by facet.
//
// A backup holds every group's data, so only SUPER_ADMIN principals (and
// the master key) may list, take, delete or restore one. Sealed values stay
// sealed inside it: a backup opens only under the server secret it was
// taken with. The audit log, sessions and other live state are copied but
// never restored: history is not rewritten, and revoked sessions do not
// come back.
package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
)

// Backup is one backup as its manifest describes it.
type Backup struct {
	ID            string
	Description   string
	Timestamp     time.Time
	Version       string // the netkeep version that took it
	SchemaVersion int64
	Size          int64
	SHA256        string // hex, of the backup file
	Tables        map[string]int64
	Trigger       Trigger
}

// Trigger says who asked for a backup.
type Trigger string

// The triggers.
const (
	Manual    Trigger = "manual"
	Scheduled Trigger = "scheduled"
)

// Contents is what the store reports of a backup file it wrote.
type Contents struct {
	SchemaVersion int64
	Tables        map[string]int64
	// Size and SHA256 describe the file as written; a Store that leaves
	// SHA256 empty has the service read the file back for them.
	Size   int64
	SHA256 string
}

// Store copies and restores the database. Restore replaces the contents of
// tables with the backup's in one transaction, writing entry in it, or
// changes nothing.
type Store interface {
	Backup(ctx context.Context, path string) (*Contents, error)
	Restore(ctx context.Context, path string, tables []string, entry *audit.Entry) error
	// Audit writes entries of operations that change no table.
	Audit(ctx context.Context, entry *audit.Entry) error
}

// Config is where backups live and how long they stay.
type Config struct {
	Dir      string        // the backups directory
	Keep     int           // the newest Keep backups are kept (0: no count limit)
	MaxAge   time.Duration // backups older than this are deleted (0: no age limit); the newest always stays
	Interval time.Duration // scheduled backups (0: none)
	Version  string        // netkeep's version, written into manifests
}

// Service takes, lists, deletes and restores backups. One backup or restore
// runs at a time.
type Service struct {
	store Store
	bus   event.Bus
	cfg   Config
	now   func() time.Time
	log   *slog.Logger

	mu      sync.Mutex // one backup or restore at a time
	schedMu sync.Mutex
	sched   schedState
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger of scheduled work.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService returns the service; bus is told to resynchronise every
// replica after a restore.
func NewService(st Store, bus event.Bus, cfg Config, opts ...Option) *Service {
	s := &Service{store: st, bus: bus, cfg: cfg, now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Reasons.
const (
	ReasonNotFound fault.Reason = "backup_not_found"
	ReasonCorrupt  fault.Reason = "backup_corrupt"
	ReasonBusy     fault.Reason = "backup_in_progress"
)

// The authz actions.
const (
	actRead  authz.Action = "backups:read"
	actWrite authz.Action = "backups:write"
)

// allow admits super principals (and API keys of one holding the scope):
// backups hold every group's data.
func allow(p *authz.Principal, a authz.Action) error { return authz.AllowServer(p, a) }

// idPattern is what backup ids look like; anything else names no backup
// (ids become file names).
var idPattern = regexp.MustCompile(`^backup_[0-9]{8}T[0-9]{6}Z_[0-9a-f]{8}$`)

func notFound(id string) error {
	return fault.New(fault.NotFound, "backup not found").WithReason(ReasonNotFound).WithDetails(map[string]any{"backup_id": id})
}

// newID names a backup by its time and a random suffix.
func newID(at time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "backup_" + at.UTC().Format("20060102T150405Z") + "_" + hex.EncodeToString(b[:])
}

func target(id string) string { return "backup:" + id }
