// Package pskbench measures the PSK API end to end: a real netkeep server
// (servertest) on a loopback port over SQLite or PostgreSQL, called over
// HTTP. It holds only benchmarks; bench/README.md records their results.
package pskbench
