package gatekey

import (
	"time"

	"netkeep/internal/vpnconfig"
)

// generatedJSON is the seed's answer to config generation, plain (no
// "data" envelope).
type generatedJSON struct {
	ConfigID    string `json:"config_id"`
	DownloadURL string `json:"download_url"`
	ExpiresAt   string `json:"expires_at"`
	// The gatekey client's names.
	ID               string `json:"id"`
	DownloadURLCamel string `json:"downloadUrl"`
	FileName         string `json:"fileName"`
}

// configJSON is a configuration as administrators see it: never its key.
// status is active, expired or revoked. serial is the client
// certificate's (null for WireGuard); public_key and address, WireGuard's
// only, are what the gateway's peer list shows.
type configJSON struct {
	ID           string  `json:"id"`
	UserID       int64   `json:"user_id"`
	GroupID      int64   `json:"group_id"`
	GatewayID    string  `json:"gateway_id"`
	Protocol     string  `json:"protocol"`
	Serial       *string `json:"serial"`
	CommonName   string  `json:"common_name"`
	Status       string  `json:"status"`
	CreatedAt    string  `json:"created_at"`
	ExpiresAt    string  `json:"expires_at"`
	Downloads    int     `json:"downloads"`
	LastDownload *string `json:"last_download"`
	RevokedAt    *string `json:"revoked_at"`
	DownloadURL  string  `json:"download_url"`
	PublicKey    string  `json:"public_key,omitempty"`
	Address      string  `json:"address,omitempty"`
}

// The statuses of a configuration.
const (
	configActive  = "active"
	configExpired = "expired"
	configRevoked = "revoked"
)

func configOf(c *vpnconfig.Config, now time.Time) configJSON {
	out := configJSON{
		ID: c.ID, UserID: c.UserID, GroupID: c.GroupID, GatewayID: c.GatewayID, Protocol: string(c.Protocol),
		CommonName: c.CommonName, Status: configActive, CreatedAt: timestamp(c.CreatedAt), ExpiresAt: timestamp(c.ExpiresAt),
		Downloads: c.Downloads, LastDownload: optionalTime(c.LastDownload), RevokedAt: optionalTime(c.RevokedAt),
		DownloadURL: vpnconfig.DownloadPath(c.ID),
	}
	switch {
	case c.Revoked():
		out.Status = configRevoked
	case !now.Before(c.ExpiresAt):
		out.Status = configExpired
	}
	if c.Protocol == vpnconfig.WireGuard {
		out.PublicKey, out.Address = c.WireGuardKey, c.Address.String()
	} else {
		serial := string(c.Serial)
		out.Serial = &serial
	}
	return out
}
