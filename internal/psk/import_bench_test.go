package psk_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"netkeep/internal/authz"
	"netkeep/internal/config"
	"netkeep/internal/store/storetest"
)

// BenchmarkImport imports NETKEEP_BENCH_IMPORT_ROWS (default 20,000) rows,
// each with one MAC, into a fresh group per iteration, on SQLite or, with
// NETKEEP_BENCH_IMPORT_DB=postgres, on PostgreSQL. It reports the process's
// CPU time per row (user and system, getrusage), steadier than wall time on
// a shared machine; the database server's own CPU is not in it on
// PostgreSQL, whose import ns/op (wall) shows.
func BenchmarkImport(b *testing.B) {
	n := 20_000
	if v := os.Getenv("NETKEEP_BENCH_IMPORT_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	kind := config.SQLite
	if os.Getenv("NETKEEP_BENCH_IMPORT_DB") == "postgres" {
		kind = config.Postgres
	}
	e := newEnv(b, storetest.Open(b, kind))
	ctx := context.Background()
	csvs := make([]string, b.N)
	for i := range csvs {
		csvs[i] = importCSV(fmt.Sprintf("b%d", i), n, true)
	}
	b.ResetTimer()
	cpu0 := processCPU(b)
	for i := range b.N {
		b.StopTimer()
		g := mustGroup(b, e.db, fmt.Sprintf("bench-%d", i))
		b.StartTimer()
		res, err := e.svc.Import(ctx, &authz.Principal{Kind: authz.KindMaster}, src, g, strings.NewReader(csvs[i]))
		if err != nil {
			b.Fatal(err)
		}
		if res.PSKs != n || res.Endpoints != n {
			b.Fatalf("imported %+v, want %d of each", res, n)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N*n)/1e3, "cpu-µs/row")
}

// processCPU is the process's user and system CPU time so far.
func processCPU(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
