package store_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"

	"netkeep/internal/config"
	"netkeep/internal/psk"
	"netkeep/internal/store/storetest"
)

// BenchmarkScanDirectory is the RADIUS directory's load on PostgreSQL (it
// is skipped without NETKEEP_TEST_POSTGRES_URL): every PSK (ScanPSKs) and
// every endpoint (ScanEndpoints) of NETKEEP_BENCH_SCAN_ROWS stations
// (default 200,000), one after the other, the rows written with COPY
// (InsertImported) in the setup. It reports this process's CPU per
// station (getrusage; PostgreSQL's own work is not in it).
func BenchmarkScanDirectory(b *testing.B) {
	if os.Getenv("NETKEEP_TEST_POSTGRES_URL") == "" {
		b.Skip("NETKEEP_TEST_POSTGRES_URL is not set")
	}
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("NETKEEP_BENCH_SCAN_ROWS")); err == nil && v > 0 {
		n = v
	}
	db := storetest.Open(b, config.Postgres)
	ctx := context.Background()
	g := mustGroup(b, db, "scan").ID
	tx, end, err := db.Hold(ctx)
	if err != nil {
		b.Fatal(err)
	}
	const chunk = 10_000
	for start := 0; start < n; start += chunk {
		rows := make([]psk.StagedRow, 0, chunk)
		for i := start; i < min(n, start+chunk); i++ {
			rows = append(rows, psk.StagedRow{Row: pskRow(g, fmt.Sprintf("s-%07d", i)),
				MACs: []string{fmt.Sprintf("02:00:%02x:%02x:%02x:%02x", i>>24&0xff, i>>16&0xff, i>>8&0xff, i&0xff)}})
		}
		if _, err := tx.InsertImported(ctx, rows); err != nil {
			b.Fatal(end(err))
		}
	}
	if err := end(nil); err != nil {
		b.Fatal(err)
	}
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for b.Loop() {
		ps, es := 0, 0
		if err := db.Read().ScanPSKs(ctx, psk.Scan{}, func(*psk.Row) error { ps++; return nil }); err != nil {
			b.Fatal(err)
		}
		if err := db.Read().ScanEndpoints(ctx, psk.Scan{}, func(*psk.Endpoint) error { es++; return nil }); err != nil {
			b.Fatal(err)
		}
		if ps != n || es != n {
			b.Fatalf("scanned %d PSKs and %d endpoints, want %d of each", ps, es, n)
		}
	}
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
	b.ReportMetric(float64(cpu)/float64(b.N*n), "cpu-ns/station")
}
