package store_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"netkeep/internal/config"
	"netkeep/internal/psk"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// BenchmarkTouchEndpoints is the RADIUS last-seen flusher's write: one
// TouchEndpoints transaction of 5,000 stations (its seenChunk) among
// 100,000 endpoints on SQLite, each op a new second so every row changes.
// It reports the process's CPU time per row written (getrusage).
func BenchmarkTouchEndpoints(b *testing.B) {
	const n, chunk = 100_000, 5000
	db := storetest.Open(b, config.SQLite)
	ctx := context.Background()
	g := mustGroup(b, db, "touch").ID
	rows := make([]*psk.Row, n)
	for i := range rows {
		rows[i] = pskRow(g, fmt.Sprintf("t-%06d", i))
	}
	insertPSKs(b, db, rows...)
	es := make([]*psk.Endpoint, n)
	at := time.Now().UTC()
	for i := range es {
		es[i] = &psk.Endpoint{GroupID: g, MAC: fmt.Sprintf("02:00:00:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff),
			PSKID: rows[i].ID, Enabled: true, CreatedAt: at, UpdatedAt: at}
	}
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.InsertEndpoints(ctx, es) }); err != nil {
		b.Fatal(err)
	}
	seen := make(map[int64]time.Time, chunk)
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	i := 0
	for op := 0; b.Loop(); op++ {
		clear(seen)
		for range chunk {
			seen[es[(i*7919)%n].ID] = at.Add(time.Duration(op+1) * time.Second)
			i++
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.TouchEndpoints(ctx, seen) }); err != nil {
			b.Fatal(err)
		}
	}
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
	b.ReportMetric(float64(cpu)/float64(b.N*chunk), "cpu-ns/row")
}
