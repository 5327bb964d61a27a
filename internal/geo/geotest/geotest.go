// Package geotest builds small MaxMind-format country databases for tests
// of geo-fencing: the same file format an administrator passes as
// --geoip-db, written with MaxMind's own writer.
package geotest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// WriteMMDB writes a GeoIP2-Country-shaped database mapping each network
// (a CIDR) to its ISO country code into tb's temporary directory and
// returns its path. Networks absent from countries are unknown.
func WriteMMDB(tb testing.TB, countries map[string]string) string {
	tb.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-Country", RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		tb.Fatal(err)
	}
	for cidr, iso := range countries {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			tb.Fatal(err)
		}
		rec := mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(iso)}}
		if err := tree.Insert(n, rec); err != nil {
			tb.Fatalf("inserting %s: %v", cidr, err)
		}
	}
	path := filepath.Join(tb.TempDir(), "countries.mmdb")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		tb.Fatal(err)
	}
	return path
}
