package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
)

// A backup is two files in the directory: <id>.db, the copy, and
// <id>.json, its manifest, written after the copy is complete (a backup
// without a manifest is an interrupted one, and is not listed). While they
// are written they are named with interruptedSuffixes.

// interruptedSuffixes end the names of a backup's files while they are
// written: the copy (and SQLite's rollback journal beside it while the
// copy writes) and the manifest, renamed into place when whole.
var interruptedSuffixes = []string{".db.partial", ".db.partial-journal", ".json.tmp"}

// removeInterrupted deletes the files of backups cut short when their
// process died (a failing backup of a running process removes its own):
// without it each killed backup left its partial copy, up to the whole
// database's size, in the directory for good. Run calls it once at the
// server's start, under the backup lock, so no backup of this process is
// being written; one that `netkeep backup` is taking at that very moment
// in the same directory loses its file and fails.
func (s *Service) removeInterrupted() {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries, err := os.ReadDir(s.cfg.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		s.log.Warn("reading the backups directory for interrupted backups", "error", err)
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isInterrupted(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(s.cfg.Dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("removing an interrupted backup's file", "file", e.Name(), "error", err)
			continue
		}
		s.log.Info("removed an interrupted backup's file", "file", e.Name())
	}
}

// isInterrupted reports whether name is a file of a backup being written.
func isInterrupted(name string) bool {
	for _, suffix := range interruptedSuffixes {
		if id, ok := strings.CutSuffix(name, suffix); ok && idPattern.MatchString(id) {
			return true
		}
	}
	return false
}

// manifest is the on-disk form of Backup.
type manifest struct {
	ID            string           `json:"id"`
	Description   string           `json:"description"`
	Timestamp     time.Time        `json:"timestamp"`
	Version       string           `json:"version"`
	SchemaVersion int64            `json:"schema_version"`
	Size          int64            `json:"size"`
	SHA256        string           `json:"sha256"`
	Tables        map[string]int64 `json:"tables"`
	Trigger       Trigger          `json:"trigger"`
}

func (s *Service) dbPath(id string) string       { return filepath.Join(s.cfg.Dir, id+".db") }
func (s *Service) manifestPath(id string) string { return filepath.Join(s.cfg.Dir, id+".json") }

// Create takes a backup now. Errors: forbidden, invalid (description),
// conflict when another backup or restore is running, unavailable when the
// copy fails.
func (s *Service) Create(ctx context.Context, p *authz.Principal, src audit.Source, description string) (*Backup, error) {
	if err := allow(p, actWrite); err != nil {
		return nil, err
	}
	return s.create(ctx, src, description, Manual)
}

func (s *Service) create(ctx context.Context, src audit.Source, description string, trigger Trigger) (*Backup, error) {
	if !s.mu.TryLock() {
		return nil, fault.New(fault.Conflict, "a backup or restore is already running").WithReason(ReasonBusy)
	}
	defer s.mu.Unlock()
	description = strings.TrimSpace(description)
	if len(description) > 500 {
		return nil, fault.New(fault.Invalid, "description must be at most 500 characters").WithDetails(map[string]any{"field": "description"})
	}
	at := s.now().UTC()
	if description == "" {
		description = fmt.Sprintf("%s backup at %s", strings.ToUpper(string(trigger[:1]))+string(trigger[1:]), at.Format("2006-01-02 15:04:05"))
	}
	if err := os.MkdirAll(s.cfg.Dir, 0o700); err != nil {
		return nil, fault.New(fault.Unavailable, "cannot create the backups directory").Wrap(err)
	}
	b := &Backup{ID: newID(at), Description: description, Timestamp: at, Version: s.cfg.Version, Trigger: trigger}
	partial := s.dbPath(b.ID) + ".partial"
	contents, err := s.store.Backup(ctx, partial)
	if err != nil {
		_ = os.Remove(partial)
		return nil, fault.New(fault.Unavailable, "the database could not be copied").Wrap(err)
	}
	b.SchemaVersion, b.Tables, b.Size, b.SHA256 = contents.SchemaVersion, contents.Tables, contents.Size, contents.SHA256
	// The copy is whole: from here on the backup is stored, audited and
	// pruned to the end even if ctx ends (a backup listed without its audit
	// entry, or one more than retention allows, would be half a change).
	ctx = context.WithoutCancel(ctx)
	if b.SHA256 == "" {
		if b.Size, b.SHA256, err = Checksum(ctx, partial, nil); err != nil {
			_ = os.Remove(partial)
			return nil, fault.New(fault.Unavailable, "reading the backup back").Wrap(err)
		}
	}
	if err := os.Chmod(partial, 0o600); err != nil {
		_ = os.Remove(partial)
		return nil, fault.New(fault.Unavailable, "protecting the backup file").Wrap(err)
	}
	if err := os.Rename(partial, s.dbPath(b.ID)); err != nil {
		_ = os.Remove(partial)
		return nil, fault.New(fault.Unavailable, "storing the backup").Wrap(err)
	}
	if err := s.writeManifest(b); err != nil {
		_ = os.Remove(s.dbPath(b.ID))
		return nil, fault.New(fault.Unavailable, "writing the backup manifest").Wrap(err)
	}
	if err := s.audit(ctx, src, "backup.create", b.ID, map[string]any{"description": b.Description, "trigger": trigger,
		"size": b.Size, "sha256": b.SHA256, "schema_version": b.SchemaVersion}); err != nil {
		_ = s.remove(b.ID) // not listed unaudited
		return nil, err
	}
	s.prune(ctx, src)
	return b, nil
}

// Checksum returns the size and lowercase hex SHA-256 of the file at
// path, read 64 KiB at a time (each read is one short system call: a
// long one keeps a core from a woken thread on a kernel without
// preemption); rest, when not nil, is called between two reads (a paced
// reader sleeps there) and its error ends the read. It is
// the one checksum of a backup file: the store's when it writes one, the
// service's when it checks one before a restore.
func Checksum(ctx context.Context, path string, rest func(context.Context) error) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h, buf := sha256.New(), make([]byte, 64<<10)
	var size int64
	for {
		n, err := io.ReadFull(f, buf)
		h.Write(buf[:n])
		size += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return size, hex.EncodeToString(h.Sum(nil)), nil
		}
		if err != nil {
			return 0, "", err
		}
		if rest != nil {
			err = rest(ctx)
		} else {
			err = ctx.Err()
		}
		if err != nil {
			return 0, "", err
		}
	}
}

// writeManifest writes b's manifest through a temporary file, so a reader
// never sees half of one.
func (s *Service) writeManifest(b *Backup) error {
	raw, err := json.MarshalIndent(manifest(*b), "", "  ")
	if err != nil {
		return err
	}
	tmp := s.manifestPath(b.ID) + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.manifestPath(b.ID))
}

func (s *Service) readManifest(id string) (*Backup, error) {
	raw, err := os.ReadFile(s.manifestPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fault.New(fault.Unavailable, "reading the backup manifest").Wrap(err)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil || m.ID != id {
		return nil, fault.New(fault.Invalid, "the backup manifest is damaged").WithReason(ReasonCorrupt).WithDetails(map[string]any{"backup_id": id})
	}
	b := Backup(m)
	return &b, nil
}

// List returns the backups, newest first. Manifests that cannot be read are
// left out (and logged).
func (s *Service) List(ctx context.Context, p *authz.Principal) ([]*Backup, error) {
	if err := allow(p, actRead); err != nil {
		return nil, err
	}
	return s.list()
}

func (s *Service) list() ([]*Backup, error) {
	entries, err := os.ReadDir(s.cfg.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []*Backup{}, nil
	}
	if err != nil {
		return nil, fault.New(fault.Unavailable, "reading the backups directory").Wrap(err)
	}
	out := []*Backup{}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !idPattern.MatchString(id) {
			continue
		}
		b, err := s.readManifest(id)
		if err != nil {
			s.log.Warn("skipping a backup whose manifest cannot be read", "backup", id, "error", err)
			continue
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b *Backup) int { return b.Timestamp.Compare(a.Timestamp) })
	return out, nil
}

// Get returns one backup; an unknown or malformed id is not_found.
func (s *Service) Get(ctx context.Context, p *authz.Principal, id string) (*Backup, error) {
	if err := allow(p, actRead); err != nil {
		return nil, err
	}
	if !idPattern.MatchString(id) {
		return nil, notFound(id)
	}
	return s.readManifest(id)
}

// Delete removes a backup. Errors: not_found, forbidden.
func (s *Service) Delete(ctx context.Context, p *authz.Principal, src audit.Source, id string) error {
	if err := allow(p, actWrite); err != nil {
		return err
	}
	if !idPattern.MatchString(id) {
		return notFound(id)
	}
	b, err := s.readManifest(id)
	if err != nil {
		return err
	}
	if err := s.remove(id); err != nil {
		return err
	}
	return s.audit(ctx, src, "backup.delete", id, map[string]any{"description": b.Description, "timestamp": b.Timestamp})
}

// remove deletes a backup's manifest first (it stops being listed), then
// its copy.
func (s *Service) remove(id string) error {
	if err := os.Remove(s.manifestPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fault.New(fault.Unavailable, "deleting the backup").Wrap(err)
	}
	if err := os.Remove(s.dbPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fault.New(fault.Unavailable, "deleting the backup").Wrap(err)
	}
	return nil
}

// prune applies the retention: the newest Keep backups stay, and none
// older than MaxAge, but the newest backup always stays. Failures are
// logged: the backup that triggered pruning is already safe.
func (s *Service) prune(ctx context.Context, src audit.Source) {
	all, err := s.list()
	if err != nil {
		s.log.Warn("pruning backups", "error", err)
		return
	}
	now := s.now()
	for i, b := range all {
		tooMany := s.cfg.Keep > 0 && i >= s.cfg.Keep
		tooOld := s.cfg.MaxAge > 0 && now.Sub(b.Timestamp) > s.cfg.MaxAge
		if i == 0 || (!tooMany && !tooOld) {
			continue
		}
		if err := s.remove(b.ID); err != nil {
			s.log.Warn("pruning a backup", "backup", b.ID, "error", err)
			continue
		}
		why := "count"
		if tooOld {
			why = "age"
		}
		if err := s.audit(ctx, src, "backup.prune", b.ID, map[string]any{"timestamp": b.Timestamp, "reason": why}); err != nil {
			s.log.Warn("auditing a pruned backup", "backup", b.ID, "error", err)
		}
	}
}

func (s *Service) audit(ctx context.Context, src audit.Source, action, id string, details map[string]any) error {
	e, err := audit.NewEntry(src, 0, action, target(id), details)
	if err != nil {
		return err
	}
	return s.store.Audit(ctx, e)
}
