package store

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
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
// One child serves backup after backup: starting a Go program (mapping and
// faulting in tens of MB, the runtime's start, all at normal priority until
// it lowers itself) and its exit cost more kernel time than a small backup,
// and kernel time is what an idle-class process cannot give back at once on
// a kernel without preemption. It exits when its standard input closes:
// the server closes it after childIdle without a backup, and when it stops.
//
// The protocol, both sides in this file: the parent runs the command with
// the environment without NETKEEP_* settings (the child needs no secret);
// for each backup it writes one childRequest as a JSON line to the child's
// standard input (the DSN travels there, never in the arguments, which
// other users may read), and the child writes the copy to its To and one
// childReply as a JSON line to its standard output. A failed backup is a
// reply with Error; the child goes on. A child that exits, or whose reply
// is unreadable, is replaced for the next backup.

// childWait is how long the parent waits for a child to exit after closing
// its input, and for the output of a killed one to close.
const childWait = 5 * time.Second

// childIdle is how long a child waits for the next backup: back-to-back
// backups (a catch-up, an operator's series) reuse it, an hourly schedule
// starts a fresh one rather than keeping a process around.
const childIdle = time.Minute

// childRequest asks the child for one backup.
type childRequest struct {
	Engine    config.DatabaseKind `json:"engine"`
	DSN       string              `json:"dsn"`
	To        string              `json:"to"`
	StepPages int                 `json:"step_pages"`
	Share     float64             `json:"share"`
}

// childReply answers one childRequest: the contents, or why there are none.
type childReply struct {
	Contents *BackupContents `json:"contents,omitempty"`
	Error    string          `json:"error,omitempty"`
}

// BackupChild takes backups in a child process (the command's path and
// leading arguments; it runs ServeBackupChild), one at a time, starting the
// process when a backup needs it and reusing it while it lives. Close ends
// it.
type BackupChild struct {
	command []string

	mu   sync.Mutex // one backup at a time; guards proc
	proc *childProc // nil: none running
}

// NewBackupChild returns a BackupChild running command; nothing starts yet.
func NewBackupChild(command []string) *BackupChild {
	return &BackupChild{command: command}
}

// Backup is db.Backup taken by the child. The child is killed when ctx
// ends; path is then removed, as after any failure.
func (c *BackupChild) Backup(ctx context.Context, db *DB, path string, pace BackupPace) (*BackupContents, error) {
	if len(c.command) == 0 {
		return nil, errors.New("no backup child command")
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("backup file %s already exists", path)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out, err := c.backup(ctx, db, path, pace)
	if err != nil {
		_ = os.Remove(path)
		return nil, err
	}
	return out, nil
}

func (c *BackupChild) backup(ctx context.Context, db *DB, path string, pace BackupPace) (*BackupContents, error) {
	p := c.proc
	if p != nil && !p.alive() {
		p, c.proc = nil, nil
	}
	if p == nil {
		var err error
		if p, err = startChild(c.command); err != nil {
			return nil, fmt.Errorf("backup child: %w", err)
		}
		c.proc = p
	}
	if p.idle != nil {
		p.idle.Stop()
	}
	req, err := json.Marshal(childRequest{Engine: db.Kind, DSN: db.dsn, To: path, StepPages: pace.StepPages, Share: pace.Share})
	if err != nil {
		return nil, err
	}
	reply, err := p.ask(ctx, append(req, '\n'))
	if err != nil {
		c.proc = nil
		return nil, err
	}
	p.idle = time.AfterFunc(childIdle, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.proc == p {
			p.end()
			c.proc = nil
		}
	})
	if reply.Error != "" {
		return nil, fmt.Errorf("backup child: %s", reply.Error)
	}
	out := reply.Contents
	if st, err := os.Stat(path); err != nil || out == nil || st.Size() != out.Size || out.SHA256 == "" {
		p.end() // a child that misreports is not trusted with the next backup
		c.proc = nil
		return nil, errors.New("backup child: its report does not describe the file it wrote")
	}
	return out, nil
}

// Close ends the child, if one runs, waiting up to childWait for it to exit
// before killing it.
func (c *BackupChild) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc != nil {
		c.proc.end()
		c.proc = nil
	}
}

// childProc is one running child.
type childProc struct {
	stdin   *os.File
	stdout  *os.File
	replies *bufio.Reader
	stderr  *tail
	kill    func()
	idle    *time.Timer // ends the child after childIdle without a backup; nil before the first

	exited chan struct{} // closed once the child has been waited for
	err    error         // the child's exit status, set before exited closes
}

// startChild starts command with pipes of its own for the requests and
// replies (the parent reads replies while another goroutine waits for the
// child, so exec's own pipes, which Wait closes, would not do).
func startChild(command []string) (*childProc, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	p := &childProc{stdin: inW, stdout: outR, replies: bufio.NewReader(outR), stderr: &tail{max: 4096}, exited: make(chan struct{})}
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, p.stderr
	cmd.Env = childEnv()
	cmd.SysProcAttr = childProcAttr()
	cmd.WaitDelay = childWait
	started := make(chan error, 1)
	go func() {
		// The death signal is tied to the thread that started the child:
		// this one, locked and never given back, lives exactly as long as
		// the child.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.exited)
	}()
	err = <-started
	inR.Close() // the child's ends
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	p.kill = func() { _ = cmd.Process.Kill() }
	return p, nil
}

// alive reports whether the child has not exited.
func (p *childProc) alive() bool {
	select {
	case <-p.exited:
		p.end()
		return false
	default:
		return true
	}
}

// ask sends one request and reads its reply. On any error but a reply
// with Error the child is ended (killed when ctx ended first).
func (p *childProc) ask(ctx context.Context, req []byte) (*childReply, error) {
	type answer struct {
		line []byte
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		if _, err := p.stdin.Write(req); err != nil {
			got <- answer{err: err}
			return
		}
		line, err := p.replies.ReadBytes('\n')
		got <- answer{line, err}
	}()
	var a answer
	select {
	case <-ctx.Done():
		p.kill()
		p.end() // closing the parent's end of the output also ends the read if a grandchild holds the other
		<-got
		return nil, ctx.Err()
	case a = <-got:
	}
	if a.err != nil {
		p.end()
		if err := p.err; err != nil {
			if why := p.stderr.lastLine(); why != "" {
				return nil, fmt.Errorf("backup child: %w: %s", err, why)
			}
			return nil, fmt.Errorf("backup child: %w", err)
		}
		return nil, fmt.Errorf("backup child: exited without a report (%v)", a.err)
	}
	var r childReply
	if err := json.Unmarshal(a.line, &r); err != nil {
		p.kill()
		p.end()
		return nil, fmt.Errorf("backup child: unreadable report: %w", err)
	}
	return &r, nil
}

// end closes the child's input (it exits at the end of it) and waits for
// it to exit, killing it after childWait; then closes the parent's ends.
// Calls after the first only wait.
func (p *childProc) end() {
	if p.idle != nil {
		p.idle.Stop()
	}
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(childWait):
		p.kill()
		<-p.exited
	}
	p.stdout.Close()
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

// ServeBackupChild is the child's side of BackupChild: it lowers the
// process to the idle scheduling class before any work, then takes one
// backup per request read from stdin, replying on stdout, until stdin ends.
// It returns an error only for a request it cannot read (args must be
// empty).
func ServeBackupChild(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) > 0 {
		return errors.New("usage: backup requests on standard input, one JSON line each (no arguments)")
	}
	// One core's work at most, and none of it before the process is lowered.
	runtime.GOMAXPROCS(1)
	if err := lowerPriority(); err != nil {
		return fmt.Errorf("lowering the priority: %w", err)
	}
	in, enc := bufio.NewReader(stdin), json.NewEncoder(stdout)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) == 0 && errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		var req childRequest
		if err := json.Unmarshal(line, &req); err != nil || req.To == "" || req.DSN == "" {
			return errors.New("usage: backup requests on standard input, one JSON line each (no arguments)")
		}
		out, err := childBackup(ctx, req)
		reply := childReply{Contents: out}
		if err != nil {
			reply = childReply{Error: err.Error()}
		}
		if err := enc.Encode(reply); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// childBackup takes the backup req asks for.
func childBackup(ctx context.Context, req childRequest) (*BackupContents, error) {
	pace := BackupPace{StepPages: req.StepPages, Share: req.Share}
	switch req.Engine {
	case config.SQLite:
		db := &DB{Kind: config.SQLite, path: req.DSN} // the copy opens its own connection
		return db.Backup(ctx, req.To, pace)
	case config.Postgres:
		db, err := openPostgres(ctx, req.DSN)
		if err != nil {
			return nil, err
		}
		defer db.Close()
		return db.Backup(ctx, req.To, pace)
	}
	return nil, fmt.Errorf("unknown engine %q", req.Engine)
}

// tail keeps the last max bytes written to it.
type tail struct {
	max int
	mu  sync.Mutex // written by exec's copying goroutine, read after a failure
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

// lastLine is the last non-empty line written (a failing netkeep's one
// line of error).
func (t *tail) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.buf)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
