package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"netkeep/internal/config"
)

// Backups in a child process. A backup copies and reads the whole
// database; in the server's process that work competes with RADIUS for the
// Go runtime's processors, and a goroutine that becomes runnable waits for
// a busy one (the runtime preempts a running goroutine only after 10 ms).
// In a process of its own at the idle scheduling class (lowerPriority), the
// kernel gives the copy only the CPU nothing else wants and takes the core
// back the moment a server thread wakes. SQLite in WAL mode lets the second
// process read one consistent snapshot while the server writes; on
// PostgreSQL the child opens its own connection.
//
// The protocol, both sides in this file: the parent runs the command with
// the flags of childFlags, the database's DSN as the one line of its
// standard input (never in its arguments, which other users may read) and
// the environment without NETKEEP_* settings (the child needs no secret);
// the child writes the copy to --to and one BackupContents as JSON to its
// standard output, or exits non-zero with the reason as the last line of
// its standard error.

// childWait is how long the parent waits for the child's output to close
// after the child is killed (when ctx ends).
const childWait = 5 * time.Second

// BackupInChild is Backup taken by the program command (its path and
// leading arguments; it runs ServeBackupChild) in a child process. The
// child is killed when ctx ends or the server dies; path is then removed.
func (db *DB) BackupInChild(ctx context.Context, command []string, path string, pace BackupPace) (*BackupContents, error) {
	if len(command) == 0 {
		return nil, errors.New("no backup child command")
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("backup file %s already exists", path)
	}
	args := slices.Concat(command[1:], []string{"--engine", string(db.Kind), "--to", path,
		"--step-pages", strconv.Itoa(pace.StepPages), "--share", strconv.FormatFloat(pace.Share, 'g', -1, 64)})
	cmd := exec.CommandContext(ctx, command[0], args...)
	cmd.Stdin = strings.NewReader(db.dsn + "\n")
	var stdout bytes.Buffer
	stderr := &tail{max: 4096}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	cmd.Env = childEnv()
	cmd.SysProcAttr = childProcAttr()
	cmd.WaitDelay = childWait
	err := onOwnThread(cmd.Run) // the death signal is tied to the starting thread
	if err != nil {
		_ = os.Remove(path)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if why := stderr.lastLine(); why != "" {
			err = fmt.Errorf("%w: %s", err, why)
		}
		return nil, fmt.Errorf("backup child: %w", err)
	}
	var out BackupContents
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("backup child: unreadable report: %w", err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() != out.Size || out.SHA256 == "" {
		_ = os.Remove(path)
		return nil, fmt.Errorf("backup child: its report does not describe the file it wrote")
	}
	return &out, nil
}

// childEnv is the environment without netkeep's settings.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NETKEEP_") {
			env = append(env, kv)
		}
	}
	return env
}

// ServeBackupChild is the child's side of BackupInChild: args are the
// flags the parent passes, stdin holds the DSN. It lowers the process to
// the idle scheduling class before any work, takes the backup and writes
// its contents to stdout as JSON.
func ServeBackupChild(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fl := flag.NewFlagSet("backup child", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	engine := fl.String("engine", "", "sqlite or postgres")
	to := fl.String("to", "", "the backup file to write")
	var pace BackupPace
	fl.IntVar(&pace.StepPages, "step-pages", 0, "SQLite pages per step")
	fl.Float64Var(&pace.Share, "share", 0, "share of a core")
	if err := fl.Parse(args); err != nil {
		return err
	}
	dsn, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil || *to == "" || strings.TrimSpace(dsn) == "" {
		return errors.New("usage: the database DSN on standard input, --engine, --to")
	}
	dsn = strings.TrimSuffix(dsn, "\n")
	// One core's work at most, and none of it before the process is lowered.
	runtime.GOMAXPROCS(1)
	if err := lowerPriority(); err != nil {
		return fmt.Errorf("lowering the priority: %w", err)
	}
	var db *DB
	switch config.DatabaseKind(*engine) {
	case config.SQLite:
		db = &DB{Kind: config.SQLite, path: dsn} // the copy opens its own connection
	case config.Postgres:
		if db, err = openPostgres(ctx, dsn); err != nil {
			return err
		}
		defer db.Close()
	default:
		return fmt.Errorf("unknown engine %q", *engine)
	}
	out, err := db.Backup(ctx, *to, pace)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(out)
}

// tail keeps the last max bytes written to it.
type tail struct {
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

// lastLine is the last non-empty line written (a failing netkeep's one
// line of error).
func (t *tail) lastLine() string {
	lines := strings.Split(strings.TrimSpace(string(t.buf)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
