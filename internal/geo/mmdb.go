package geo

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"
)

// MMDB is a Locator over a MaxMind-format database (GeoLite2-Country,
// GeoIP2-Country or -City, DB-IP's country databases, or any database whose
// records carry country.iso_code). It is safe for concurrent use.
type MMDB struct{ r *maxminddb.Reader }

// OpenMMDB opens the database at path.
func OpenMMDB(path string) (*MMDB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the GeoIP database %s: %w", path, err)
	}
	return &MMDB{r: r}, nil
}

// Close releases the database.
func (m *MMDB) Close() error { return m.r.Close() }

// countryRecord is the part of a record geo reads. A record that names no
// country (an anonymous proxy, a satellite provider) may still name the
// registered country.
type countryRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
}

// Country returns addr's ISO country code, "" when the database has none.
func (m *MMDB) Country(addr netip.Addr) (string, error) {
	var rec countryRecord
	if err := m.r.Lookup(addr).Decode(&rec); err != nil {
		return "", fmt.Errorf("looking up %s: %w", addr, err)
	}
	if rec.Country.ISOCode != "" {
		return rec.Country.ISOCode, nil
	}
	return rec.RegisteredCountry.ISOCode, nil
}
