package docker

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"netkeep/internal/container"
)

// maxLine is the longest line passed on whole; a longer one is cut into
// pieces of this size.
const maxLine = 16 << 10

// errStopped ends a log copy when the receiver wants no more.
var errStopped = errors.New("log receiver stopped")

// Logs streams the container's output to emit, demultiplexing stdout and
// stderr (a container with a TTY has only one stream, reported as stdout).
func (r *Runtime) Logs(ctx context.Context, id string, o container.LogOptions, emit func(container.LogLine) bool) error {
	ins, err := r.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return engineError(err, "", id)
	}
	tail := "all"
	if o.Tail >= 0 {
		tail = strconv.Itoa(o.Tail)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rc, err := r.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true,
		Follow: o.Follow, Timestamps: o.Timestamps, Tail: tail})
	if err != nil {
		return engineError(err, "", id)
	}
	defer rc.Close()
	stdout := &lineWriter{stream: container.Stdout, emit: emit}
	stderr := &lineWriter{stream: container.Stderr, emit: emit}
	if ins.Container.Config != nil && ins.Container.Config.Tty {
		_, err = io.Copy(stdout, rc)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, rc)
	}
	if errors.Is(err, errStopped) || ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return engineError(err, "", id)
	}
	stdout.flush()
	stderr.flush()
	return nil
}

// lineWriter cuts one stream into lines for emit.
type lineWriter struct {
	stream  string
	emit    func(container.LogLine) bool
	partial []byte
	stopped bool
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			for len(w.partial) >= maxLine {
				if !w.send(w.partial[:maxLine]) {
					return 0, errStopped
				}
				w.partial = w.partial[maxLine:]
			}
			break
		}
		line := p[:i]
		if len(w.partial) > 0 {
			line = append(w.partial, line...)
			w.partial = w.partial[:0]
		}
		if !w.send(line) {
			return 0, errStopped
		}
		p = p[i+1:]
	}
	return n, nil
}

func (w *lineWriter) send(line []byte) bool {
	if w.stopped {
		return false
	}
	if !w.emit(container.LogLine{Stream: w.stream, Line: string(bytes.TrimSuffix(line, []byte("\r")))}) {
		w.stopped = true
	}
	return !w.stopped
}

// flush passes on a last line without its newline.
func (w *lineWriter) flush() {
	if len(w.partial) > 0 {
		w.send(w.partial)
		w.partial = nil
	}
}
