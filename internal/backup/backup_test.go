package backup_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/backup"
	"netkeep/internal/event"
	"netkeep/internal/event/eventtest"
	"netkeep/internal/fault"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

var (
	master     = &authz.Principal{Kind: authz.KindMaster, Role: authz.SuperAdmin}
	super      = &authz.Principal{Kind: authz.KindUser, Role: authz.SuperAdmin, UserID: 1, GroupID: 1}
	groupAdmin = &authz.Principal{Kind: authz.KindUser, Role: authz.GroupAdmin, UserID: 2, GroupID: 1}
	src        = audit.Source{Actor: "test", IP: "127.0.0.1"}
)

type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

type fixture struct {
	db    *store.DB
	svc   *backup.Service
	bus   *event.Local
	clock *clock
	dir   string
}

func newFixture(t *testing.T, db *store.DB, cfg backup.Config) *fixture {
	t.Helper()
	f := &fixture{db: db, bus: event.NewLocal(), clock: &clock{}, dir: t.TempDir()}
	f.clock.ns.Store(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC).UnixNano())
	t.Cleanup(func() { f.bus.Close() })
	cfg.Dir, cfg.Version = f.dir, "test"
	f.svc = backup.NewService(store.Backups{DB: db}, f.bus, cfg, backup.WithClock(f.clock.Now))
	return f
}

func (f *fixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := f.db.SQL().Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (f *fixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.SQL().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// seedPSK adds a PSK to the default group.
func (f *fixture) seedPSK(t *testing.T, name string) {
	t.Helper()
	f.exec(t, `INSERT INTO psks (group_id, psk_id, passphrase, seal_id, created_at, updated_at)
		VALUES ((SELECT MIN(id) FROM groups), $1, $2, $3, $4, $4)`, name, []byte("sealed"), "seal-"+name, time.Now())
}

// A SUPER_ADMIN takes a backup: a file whose checksum its manifest records,
// listed, audited; nobody else may see or take one.
func TestCreateListGet(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, backup.Config{})
		ctx := context.Background()
		f.seedPSK(t, "room-1")
		b, err := f.svc.Create(ctx, super, src, "  before the upgrade ")
		if err != nil {
			t.Fatal(err)
		}
		if b.Description != "before the upgrade" || b.Trigger != backup.Manual || b.Tables["psks"] != 1 || b.SchemaVersion == 0 || b.Size == 0 {
			t.Fatalf("backup %+v", b)
		}
		raw, err := os.ReadFile(filepath.Join(f.dir, b.ID+".db"))
		if err != nil || int64(len(raw)) != b.Size {
			t.Fatalf("backup file: %d bytes, %v", len(raw), err)
		}
		if st, _ := os.Stat(filepath.Join(f.dir, b.ID+".db")); st.Mode().Perm() != 0o600 {
			t.Fatalf("backup file mode %v", st.Mode())
		}
		if n := f.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'backup.create' AND target = $1`, "backup:"+b.ID); n != 1 {
			t.Fatalf("%d audit entries", n)
		}
		auto, err := f.svc.Create(ctx, master, src, "")
		if err != nil || auto.Description != "Manual backup at 2026-12-07 12:00:00" {
			t.Fatalf("default description: %+v %v", auto, err)
		}
		f.clock.Add(time.Minute)
		newest, err := f.svc.Create(ctx, master, src, "newest")
		if err != nil {
			t.Fatal(err)
		}
		list, err := f.svc.List(ctx, super)
		if err != nil || len(list) != 3 || list[0].ID != newest.ID {
			t.Fatalf("list %v %v", list, err)
		}
		got, err := f.svc.Get(ctx, super, b.ID)
		if err != nil || got.SHA256 != b.SHA256 || !got.Timestamp.Equal(b.Timestamp) {
			t.Fatalf("get %+v %v", got, err)
		}

		for _, id := range []string{"backup_20261207T120000Z_00000000", "../../etc/passwd", b.ID + "x"} {
			if _, err := f.svc.Get(ctx, super, id); !fault.Is(err, fault.NotFound) {
				t.Fatalf("get %q: %v", id, err)
			}
		}
		keyNoScope := &authz.Principal{Kind: authz.KindAPIKey, Role: authz.SuperAdmin, Scopes: authz.Scopes{"psks:read": true}}
		keyScoped := &authz.Principal{Kind: authz.KindAPIKey, Role: authz.SuperAdmin, Scopes: authz.Scopes{"backups:read": true}}
		adminKey := &authz.Principal{Kind: authz.KindAPIKey, Role: authz.GroupAdmin, GroupID: 1, Scopes: authz.Scopes{"backups:read": true}}
		for name, p := range map[string]*authz.Principal{"group admin": groupAdmin, "key without scope": keyNoScope, "group admin's key": adminKey} {
			if _, err := f.svc.List(ctx, p); !fault.Is(err, fault.Forbidden) {
				t.Fatalf("%s lists backups: %v", name, err)
			}
		}
		if _, err := f.svc.Create(ctx, groupAdmin, src, ""); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("group admin takes a backup: %v", err)
		}
		if _, err := f.svc.List(ctx, keyScoped); err != nil {
			t.Fatalf("scoped super key: %v", err)
		}
		if _, err := f.svc.Create(ctx, keyScoped, src, ""); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("read-only key takes a backup: %v", err)
		}

		if err := f.svc.Delete(ctx, super, src, b.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(f.dir, b.ID+".db")); !os.IsNotExist(err) {
			t.Fatalf("deleted backup's file remains: %v", err)
		}
		if err := f.svc.Delete(ctx, super, src, b.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("second delete: %v", err)
		}
	})
}

// Retention keeps the newest Keep backups and none older than MaxAge, but
// always the newest.
func TestRetention(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, backup.Config{Keep: 2, MaxAge: 48 * time.Hour})
		ctx := context.Background()
		var ids []string
		for range 3 {
			b, err := f.svc.Create(ctx, master, src, "")
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, b.ID)
			f.clock.Add(time.Hour)
		}
		list, _ := f.svc.List(ctx, master)
		if len(list) != 2 || list[0].ID != ids[2] || list[1].ID != ids[1] {
			t.Fatalf("after 3 with keep 2: %v", list)
		}
		f.clock.Add(72 * time.Hour)
		last, err := f.svc.Create(ctx, master, src, "")
		if err != nil {
			t.Fatal(err)
		}
		list, _ = f.svc.List(ctx, master)
		if len(list) != 1 || list[0].ID != last.ID {
			t.Fatalf("after aging: %v", list)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'backup.prune'`); n != 3 {
			t.Fatalf("%d prune audit entries, want 3", n)
		}
	})
}

// A restore brings the chosen facets back as they were, leaves the others,
// tells every subscriber to reload, and is audited; a damaged backup file
// is refused and nothing changes.
func TestRestore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, backup.Config{})
		ctx := context.Background()
		f.seedPSK(t, "room-1")
		f.seedPSK(t, "room-2")
		b, err := f.svc.Create(ctx, super, src, "")
		if err != nil {
			t.Fatal(err)
		}
		f.exec(t, `DELETE FROM psks WHERE psk_id = 'room-1'`)
		f.seedPSK(t, "room-3")
		f.exec(t, `INSERT INTO groups (name, created_at) VALUES ('added-later', $1)`, time.Now())
		sub := f.bus.Subscribe("psk")

		if err := f.svc.Restore(ctx, groupAdmin, src, b.ID, []backup.Facet{backup.FacetWiFi}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("group admin restores: %v", err)
		}
		if err := f.svc.Restore(ctx, super, src, b.ID, nil); !fault.Is(err, fault.Invalid) {
			t.Fatalf("restore of nothing: %v", err)
		}
		if err := f.svc.Restore(ctx, super, src, b.ID, []backup.Facet{backup.FacetWiFi}); err != nil {
			t.Fatal(err)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM psks WHERE psk_id IN ('room-1', 'room-2')`); n != 2 {
			t.Fatalf("restored PSKs: %d", n)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM psks WHERE psk_id = 'room-3'`); n != 0 {
			t.Fatal("a PSK made after the backup survived the restore")
		}
		if n := f.count(t, `SELECT COUNT(*) FROM groups WHERE name = 'added-later'`); n != 1 {
			t.Fatal("a facet not restored changed")
		}
		if e := eventtest.Receive(t, sub); e.Topic != event.TopicBus || e.Action != event.ActionResync {
			t.Fatalf("subscribers got %+v, want a resync", e)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'backup.restore'`); n != 1 {
			t.Fatalf("%d restore audit entries", n)
		}

		// A damaged file is refused before anything changes.
		f.exec(t, `DELETE FROM psks`)
		path := filepath.Join(f.dir, b.ID+".db")
		raw, _ := os.ReadFile(path)
		raw[len(raw)/2] ^= 0xff
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		err = f.svc.Restore(ctx, super, src, b.ID, []backup.Facet{backup.FacetWiFi})
		if fault.As(err).Reason != backup.ReasonCorrupt {
			t.Fatalf("damaged backup: %v", err)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM psks`); n != 0 {
			t.Fatal("a refused restore changed data")
		}
	})
}

// The scheduler takes backups on its interval and reports them; a manual
// trigger counts as a scheduled run.
func TestScheduler(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, "sqlite")
	f := newFixture(t, db, backup.Config{Interval: 20 * time.Millisecond, Keep: 3})
	ctx := context.Background()
	b, err := f.svc.Trigger(ctx, super, src, "")
	if err != nil || b.Trigger != backup.Scheduled {
		t.Fatalf("trigger: %+v %v", b, err)
	}
	st, err := f.svc.Status(ctx, super)
	if err != nil || !st.Enabled || st.Running || st.Runs != 1 || st.LastBackupID != b.ID {
		t.Fatalf("status after trigger: %+v %v", st, err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { f.svc.Run(runCtx); close(done) }()
	// Generous: on a loaded machine a run takes what it takes; the bound
	// only turns a scheduler that never runs into a failure.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st, _ = f.svc.Status(ctx, super)
		if st.Runs >= 3 && st.Running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scheduler did not run: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Stopping may catch a run anywhere: a run stopped before its copy is
	// whole leaves nothing, one stopped after it finishes (stored, audited,
	// pruned), so retention still holds and every listed backup is audited.
	stop()
	<-done
	if st, _ = f.svc.Status(ctx, super); st.Running || st.Failures != 0 {
		t.Fatalf("after stop: %+v", st)
	}
	list, _ := f.svc.List(ctx, super)
	if len(list) != 3 {
		t.Fatalf("%d backups kept, want 3", len(list))
	}
	for _, b := range list {
		if n := f.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'backup.create' AND target = $1`, "backup:"+b.ID); n != 1 {
			t.Fatalf("backup %s listed with %d audit entries", b.ID, n)
		}
	}
	if _, err := f.svc.Status(ctx, groupAdmin); !fault.Is(err, fault.Forbidden) {
		t.Fatalf("group admin reads the status: %v", err)
	}
}

// cancelAfterCopy ends the caller's context the moment the copy is whole,
// as a server stopping at that instant would.
type cancelAfterCopy struct {
	backup.Store
	cancel context.CancelFunc
}

func (c cancelAfterCopy) Backup(ctx context.Context, path string) (*backup.Contents, error) {
	out, err := c.Store.Backup(ctx, path)
	c.cancel()
	return out, err
}

// A backup whose copy is whole is stored, audited and pruned even if its
// context ends then; one whose copy fails (a killed copy process) leaves
// nothing listed and no file behind.
func TestCreateInterrupted(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, "sqlite")
	f := newFixture(t, db, backup.Config{Keep: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := f.svc.Create(ctx, super, src, "first"); err != nil {
		t.Fatal(err)
	}
	stopping := backup.NewService(cancelAfterCopy{store.Backups{DB: db}, cancel}, f.bus,
		backup.Config{Dir: f.dir, Keep: 1, Version: "test"}, backup.WithClock(f.clock.Now))
	f.clock.Add(time.Minute)
	b, err := stopping.Create(ctx, super, src, "stopped after the copy")
	if err != nil {
		t.Fatalf("a backup whose copy was whole failed: %v", err)
	}
	list, _ := f.svc.List(context.Background(), super)
	if len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("after a stop at the end of the copy: %+v, want only %s (keep 1)", list, b.ID)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM audit_log WHERE action = 'backup.create' AND target = $1`, "backup:"+b.ID); n != 1 {
		t.Fatalf("%d audit entries for the stored backup", n)
	}

	// The copy process killed half-way: $to is the file its request names.
	child := store.NewBackupChild([]string{"sh", "-c", `read -r req; to=${req#*'"to":"'}; to=${to%%'"'*}; printf half > "$to"; kill -9 $$`})
	defer child.Close()
	killed := backup.NewService(store.Backups{DB: db, Child: child},
		f.bus, backup.Config{Dir: f.dir, Version: "test"}, backup.WithClock(f.clock.Now))
	if _, err := killed.Create(context.Background(), super, src, "killed"); !fault.Is(err, fault.Unavailable) {
		t.Fatalf("a killed copy: %v, want unavailable", err)
	}
	entries, _ := os.ReadDir(f.dir)
	if len(entries) != 2 { // the one backup left: its copy and manifest
		t.Fatalf("after a killed copy the directory holds %d files, want 2", len(entries))
	}
	if list, _ := f.svc.List(context.Background(), super); len(list) != 1 {
		t.Fatalf("after a killed copy %d backups listed", len(list))
	}
}

// TestRemoveInterruptedAtStart: the files a backup was writing when its
// process was killed (the copy, its journal, the manifest being written)
// are removed when the service starts running; complete backups and files
// that are not a backup's stay.
func TestRemoveInterruptedAtStart(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, "sqlite")
	f := newFixture(t, db, backup.Config{})
	b, err := f.svc.Create(context.Background(), super, src, "whole")
	if err != nil {
		t.Fatal(err)
	}
	const killed = "backup_20261207T120500Z_0123abcd"
	stale := []string{killed + ".db.partial", killed + ".db.partial-journal", killed + ".json.tmp"}
	kept := []string{b.ID + ".db", b.ID + ".json", "notes.db.partial", "README.txt", killed + ".db.partial.old"}
	for _, name := range append(stale, kept[2:]...) {
		if err := os.WriteFile(filepath.Join(f.dir, name), []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	f.svc.Run(context.Background()) // no interval: returns once the directory is clean

	entries, err := os.ReadDir(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	want := slices.Sorted(slices.Values(kept))
	if !slices.Equal(names, want) {
		t.Fatalf("the directory holds %q, want %q", names, want)
	}
	if list, err := f.svc.List(context.Background(), super); err != nil || len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("listed %+v, %v; want only %s", list, err, b.ID)
	}
}
