package hostinfo

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	busy, total, err := parseStat(strings.NewReader("cpu  100 20 30 800 50 0 0 0 7 3\ncpu0 50 10 15 400 25 0 0 0 0 0\nintr 1\n"))
	if err != nil || busy != 150 || total != 1000 {
		t.Fatalf("stat: busy %d total %d %v", busy, total, err)
	}
	used, memTotal, err := parseMeminfo(strings.NewReader("MemTotal:       2048 kB\nMemFree:         100 kB\nMemAvailable:    512 kB\n"))
	if err != nil || used != 1536*1024 || memTotal != 2048*1024 {
		t.Fatalf("meminfo: %d %d %v", used, memTotal, err)
	}
	if _, _, err := parseMeminfo(strings.NewReader("MemTotal: 2048 kB\n")); err == nil {
		t.Fatal("meminfo without MemAvailable accepted")
	}
	dev := `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 9999 10 0 0 0 0 0 0 9999 10 0 0 0 0 0 0
  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0
  wg0: 300 3 0 0 0 0 0 0 400 4 0 0 0 0 0 0
`
	rx, tx, err := parseNetDev(strings.NewReader(dev))
	if err != nil || rx != 1300 || tx != 2400 {
		t.Fatalf("net/dev: rx %d tx %d %v", rx, tx, err)
	}
}

// CPU use is the busy share of the jiffies between two readings.
func TestCPUBetweenReadings(t *testing.T) {
	proc := t.TempDir()
	write := func(line string) {
		if err := os.WriteFile(filepath.Join(proc, "stat"), []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r := &Reader{Proc: proc, minSample: time.Millisecond}
	write("cpu 100 0 0 900 0 0 0 0 0 0\n")
	if _, err := r.cpu(); err != nil {
		t.Fatal(err)
	}
	write("cpu 400 0 0 1600 0 0 0 0 0 0\n") // 300 busy of 1000
	got, err := r.cpu()
	if err != nil || got != 30 {
		t.Fatalf("cpu %v %v, want 30", got, err)
	}
}

// A live reading of this host is plausible.
func TestReadThisHost(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	res, err := New(t.TempDir()).Read()
	if err != nil {
		t.Fatal(err)
	}
	if res.RAMTotal == 0 || res.RAMUsed > res.RAMTotal || res.DiskTotal == 0 || res.DiskUsed > res.DiskTotal ||
		res.CPUPercent < 0 || res.CPUPercent > 100 {
		t.Fatalf("implausible reading %+v", res)
	}
}

// Names reports this host's real name and addresses: the host name and
// every interface address but link-local ones.
func TestNames(t *testing.T) {
	names, err := Names()
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if len(names) == 0 || names[0] != strings.ToLower(host) {
		t.Fatalf("names %v, want %s first", names, host)
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		ip := a.(*net.IPNet).IP
		if !ip.IsLinkLocalUnicast() && !slices.Contains(names, ip.String()) {
			t.Errorf("address %s missing from %v", ip, names)
		}
		if ip.IsLinkLocalUnicast() && slices.Contains(names, ip.String()) {
			t.Errorf("link-local %s suggested", ip)
		}
	}
}
