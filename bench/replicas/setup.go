package main

import (
	"fmt"
	"strings"
)

// fixture is what setup made: an admin's token and the stations of the
// RADIUS load.
type fixture struct {
	token    string
	stations []string
}

// setup creates the first admin through direct (a replica), then through
// lb the RADIUS client 127.0.0.1 with rc's secret, n stations (PSK st-<i>
// and MAC 02:00:00:00:xx:xx, by CSV import) and the PSK "prop" the
// propagation samples bind their stations to.
func setup(direct, lb string, rc *radiusClient, n int) (*fixture, error) {
	const user, password = "bench", "bench-password-123"
	creds := map[string]string{"username": user, "password": password}
	if err := newAPIClient(direct, "").call("POST", "/api/v1/auth/setup", creds, 201, nil); err != nil {
		return nil, err
	}
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if err := newAPIClient(direct, "").call("POST", "/api/v1/auth/login", creds, 200, &login); err != nil {
		return nil, err
	}
	api := newAPIClient(lb, login.AccessToken)
	if err := api.call("POST", "/api/v1/radius/clients", map[string]any{
		"name": "bench AP", "address": "127.0.0.1", "secret": string(rc.secret), "vendor": "hostapd",
	}, 201, nil); err != nil {
		return nil, err
	}
	fx := &fixture{token: login.AccessToken}
	var csv strings.Builder
	csv.WriteString("psk_id,psk_value,vlan_id,expires,description,mac_address\n")
	for i := range n {
		mac := fmt.Sprintf("02:00:00:00:%02x:%02x", i>>8&0xff, i&0xff)
		fmt.Fprintf(&csv, "st-%d,passphrase-%08d,%d,,,%s\n", i, i, 100+i%100, mac)
		fx.stations = append(fx.stations, mac)
	}
	if err := api.call("POST", "/api/v1/psks/import", csvBody(csv.String()), 201, nil); err != nil {
		return nil, err
	}
	if err := api.call("POST", "/api/v1/psks", map[string]any{"psk_id": "prop"}, 201, nil); err != nil {
		return nil, err
	}
	return fx, nil
}
