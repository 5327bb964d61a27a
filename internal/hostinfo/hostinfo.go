// Package hostinfo reads what this host's kernel says about its resources:
// CPU use (from /proc/stat, between two readings), memory (/proc/meminfo),
// a file system's space (statfs) and network traffic (/proc/net/dev). It
// reports the host netkeep runs on, never invented figures: on a system
// without /proc the readings fail.
package hostinfo

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Resources is one reading.
type Resources struct {
	CPUPercent float64 // all CPUs busy share since the previous reading, 0..100
	RAMUsed    uint64  // bytes: MemTotal - MemAvailable
	RAMTotal   uint64
	DiskUsed   uint64 // bytes of the file system holding the data directory
	DiskTotal  uint64
	RxBytes    uint64 // received and sent on every interface but loopback
	TxBytes    uint64
}

// Percent is used/total as a percentage, 0 for an empty total.
func Percent(used, total uint64) float64 {
	if total == 0 {
		return 0
	}
	return float64(used) * 100 / float64(total)
}

// Reader reads the host's resources. CPU use needs two readings: the first
// call takes two, minSample apart; later calls compare with the previous.
type Reader struct {
	Proc      string // the proc file system ("/proc")
	Dir       string // a directory on the file system to report (the data directory)
	minSample time.Duration

	mu   sync.Mutex
	last cpuTimes
}

// New returns a reader of /proc for the file system holding dir.
func New(dir string) *Reader {
	return &Reader{Proc: "/proc", Dir: dir, minSample: 200 * time.Millisecond}
}

// Read takes a reading.
func (r *Reader) Read() (*Resources, error) {
	out := &Resources{}
	var err error
	if out.CPUPercent, err = r.cpu(); err != nil {
		return nil, err
	}
	if out.RAMUsed, out.RAMTotal, err = readFile(r.Proc+"/meminfo", parseMeminfo); err != nil {
		return nil, err
	}
	if out.RxBytes, out.TxBytes, err = readFile(r.Proc+"/net/dev", parseNetDev); err != nil {
		return nil, err
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(r.Dir, &st); err != nil {
		return nil, fmt.Errorf("statfs %s: %w", r.Dir, err)
	}
	bs := uint64(st.Bsize)
	out.DiskTotal = st.Blocks * bs
	out.DiskUsed = (st.Blocks - st.Bfree) * bs
	return out, nil
}

func readFile(path string, parse func(io.Reader) (uint64, uint64, error)) (uint64, uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	a, b, err := parse(f)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	return a, b, nil
}

// cpuTimes are the aggregate "cpu" line's busy and total jiffies.
type cpuTimes struct{ busy, total uint64 }

func (r *Reader) cpu() (float64, error) {
	read := func() (cpuTimes, error) {
		busy, total, err := readFile(r.Proc+"/stat", parseStat)
		return cpuTimes{busy, total}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now, err := read()
	if err != nil {
		return 0, err
	}
	prev := r.last
	if prev.total == 0 || now.total <= prev.total {
		prev = now
		time.Sleep(r.minSample) // the first reading: a second one to compare with
		if now, err = read(); err != nil {
			return 0, err
		}
	}
	r.last = now
	dt := now.total - prev.total
	if dt == 0 {
		return 0, nil
	}
	return float64(now.busy-prev.busy) * 100 / float64(dt), nil
}

// parseStat reads /proc/stat's aggregate cpu line: busy is everything but
// idle and iowait.
func parseStat(rd io.Reader) (busy, total uint64, err error) {
	sc := bufio.NewScanner(rd)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || f[0] != "cpu" {
			continue
		}
		var idle uint64
		for i, s := range f[1:] {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("cpu field %d: %w", i+1, err)
			}
			if i >= 8 {
				break // guest and guest_nice are already counted in user and nice
			}
			total += v
			if i == 3 || i == 4 { // idle, iowait
				idle += v
			}
		}
		return total - idle, total, nil
	}
	return 0, 0, fmt.Errorf("no aggregate cpu line")
}

// parseMeminfo returns used (MemTotal - MemAvailable) and total, in bytes.
func parseMeminfo(rd io.Reader) (used, total uint64, err error) {
	var avail uint64
	var haveTotal, haveAvail bool
	sc := bufio.NewScanner(rd)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "MemTotal:":
			total, haveTotal = v*1024, true
		case "MemAvailable:":
			avail, haveAvail = v*1024, true
		}
	}
	if !haveTotal || !haveAvail || avail > total {
		return 0, 0, fmt.Errorf("no MemTotal and MemAvailable")
	}
	return total - avail, total, nil
}

// parseNetDev sums received and sent bytes over every interface but lo.
func parseNetDev(rd io.Reader) (rx, tx uint64, err error) {
	sc := bufio.NewScanner(rd)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 16 {
			continue
		}
		r, err1 := strconv.ParseUint(f[0], 10, 64)
		t, err2 := strconv.ParseUint(f[8], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, 0, fmt.Errorf("interface %s: malformed counters", strings.TrimSpace(name))
		}
		rx, tx = rx+r, tx+t
	}
	return rx, tx, sc.Err()
}
