package config

import (
	"strings"
	"testing"
)

// TestEmptyVariable: for every setting, a NETKEEP_<NAME> variable that is
// set but empty means empty, exactly like an empty flag, and never the
// default; where empty is not a valid value, startup fails naming the
// setting. The table must have a row for every option.
func TestEmptyVariable(t *testing.T) {
	tests := map[string]struct {
		get     func(c *Config) any // the value in effect; nil when wantErr
		want    any
		wantErr string // in Load's or Validate's error
	}{
		"config":                   {get: func(c *Config) any { return c.ConfigFile }, want: ""},
		"listen":                   {wantErr: "listen: must not be empty"},
		"data-dir":                 {wantErr: "data-dir: must not be empty"},
		"database-url":             {get: func(c *Config) any { return c.DatabaseURL }, want: ""},
		"log-level":                {wantErr: "log-level"},
		"log-format":               {wantErr: "log-format"},
		"tls-cert":                 {wantErr: "tls-cert and tls-key must be set together"}, // the file's tls-key is left alone
		"tls-key":                  {wantErr: "tls-cert and tls-key must be set together"},
		"tls-listen":               {get: func(c *Config) any { return c.TLSListen }, want: ""},
		"master-key":               {get: func(c *Config) any { return c.MasterKey }, want: ""},
		"secret-key":               {get: func(c *Config) any { return c.SecretKey }, want: ""},
		"max-body-bytes":           {wantErr: "NETKEEP_MAX_BODY_BYTES is set but empty"},
		"import-timeout":           {wantErr: "NETKEEP_IMPORT_TIMEOUT is set but empty"},
		"shutdown-timeout":         {wantErr: "NETKEEP_SHUTDOWN_TIMEOUT is set but empty"},
		"start-hold":               {wantErr: "NETKEEP_START_HOLD is set but empty"},
		"access-token-ttl":         {wantErr: "NETKEEP_ACCESS_TOKEN_TTL is set but empty"},
		"refresh-grace":            {wantErr: "NETKEEP_REFRESH_GRACE is set but empty"},
		"trust-proxy-headers":      {wantErr: "NETKEEP_TRUST_PROXY_HEADERS is set but empty"},
		"radius-listen":            {get: func(c *Config) any { return c.RadiusListen }, want: ""},
		"radius-acct-listen":       {get: func(c *Config) any { return c.RadiusAcctListen }, want: ""},
		"public-url":               {get: func(c *Config) any { return c.PublicURL }, want: ""},
		"client-config-ttl":        {wantErr: "NETKEEP_CLIENT_CONFIG_TTL is set but empty"},
		"pki-client-cert-ttl":      {wantErr: "NETKEEP_PKI_CLIENT_CERT_TTL is set but empty"},
		"mesh-interfaces":          {wantErr: "NETKEEP_MESH_INTERFACES is set but empty"},
		"apps-file":                {get: func(c *Config) any { return c.AppsFile }, want: ""},
		"docker-host":              {get: func(c *Config) any { return c.DockerHost }, want: ""},
		"health-interval":          {wantErr: "NETKEEP_HEALTH_INTERVAL is set but empty"},
		"health-timeout":           {wantErr: "NETKEEP_HEALTH_TIMEOUT is set but empty"},
		"sso-providers":            {get: func(c *Config) any { return c.SSOProviders }, want: ""},
		"geoip-db":                 {get: func(c *Config) any { return c.GeoIPDB }, want: ""},
		"gatekey-web-login":        {get: func(c *Config) any { return c.GateKeyWebLogin }, want: ""},
		"backup-dir":               {get: func(c *Config) any { return c.BackupDirectory() }, want: "data/backups"},
		"backup-interval":          {wantErr: "NETKEEP_BACKUP_INTERVAL is set but empty"},
		"backup-keep":              {wantErr: "NETKEEP_BACKUP_KEEP is set but empty"},
		"backup-max-age":           {wantErr: "NETKEEP_BACKUP_MAX_AGE is set but empty"},
		"scripts-dir":              {get: func(c *Config) any { return c.ScriptsDir }, want: ""},
		"local-trust":              {get: func(c *Config) any { return c.LocalTrust }, want: ""},
		"local-trust-role":         {wantErr: "local-trust-role"},
		"federation-listen":        {get: func(c *Config) any { return c.FederationListen }, want: ""},
		"federation-url":           {get: func(c *Config) any { return c.FederationURL }, want: ""},
		"federation-name":          {get: func(c *Config) any { return c.FederationName }, want: ""},
		"federation-sync-interval": {wantErr: "NETKEEP_FEDERATION_SYNC_INTERVAL is set but empty"},
		"auth-failure-limit":       {wantErr: "NETKEEP_AUTH_FAILURE_LIMIT is set but empty"},
		"nekzus-auth-limit":        {wantErr: "NETKEEP_NEKZUS_AUTH_LIMIT is set but empty"},
	}
	for _, o := range options {
		for _, name := range append([]string{o.name}, o.aliases...) {
			if _, ok := tests[name]; !ok {
				t.Errorf("no case for option %q: say what an empty %s means", name, EnvName(name))
			}
		}
	}
	// A file sets every option to something else than its default, so a
	// value surviving the empty variable would show.
	file := writeFile(t, "netkeep.yaml", `
database-url: postgres://file/db
tls-cert: file-cert.pem
tls-key: file-key.pem
master-key: file-master-key-0123456789abcdefghij
radius-listen: 127.0.0.1:11812
radius-acct-listen: 127.0.0.1:11813
public-url: https://file.example.com
apps-file: file-apps.yaml
docker-host: tcp://file:2375
sso-providers: /etc/netkeep/sso.yaml
local-trust: loopback
`)
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{EnvName(name): ""}
			var args []string
			if name != "config" {
				args = []string{"--config", file}
			}
			c, err := load(t, args, env)
			if err == nil {
				err = c.Validate()
			}
			if matchErr(t, err, tt.wantErr) {
				return
			}
			if got := tt.get(c); got != tt.want {
				t.Errorf("%s = %#v, want %#v", name, got, tt.want)
			}
		})
	}
}

// matchErr reports whether the case is done: when want is not empty, err
// must be an error mentioning it; otherwise err must be nil.
func matchErr(tb testing.TB, err error, want string) bool {
	tb.Helper()
	if want != "" {
		if err == nil || !strings.Contains(err.Error(), want) {
			tb.Fatalf("err = %v, want one mentioning %q", err, want)
		}
		return true
	}
	if err != nil {
		tb.Fatal(err)
	}
	return false
}

// TestEmptySecretFile: an empty NETKEEP_<NAME>_FILE names no file; it is a
// startup error rather than the default, and the variable itself still
// wins over it.
func TestEmptySecretFile(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		want    string // MasterKey when no error
	}{
		{name: "empty _FILE", env: map[string]string{"NETKEEP_MASTER_KEY_FILE": ""}, wantErr: "NETKEEP_MASTER_KEY_FILE is set but empty"},
		{name: "empty database _FILE", env: map[string]string{"NETKEEP_DATABASE_URL_FILE": ""}, wantErr: "NETKEEP_DATABASE_URL_FILE is set but empty"},
		{name: "empty variable over a _FILE", env: map[string]string{"NETKEEP_MASTER_KEY": "", "NETKEEP_MASTER_KEY_FILE": writeFile(t, "k", strings.Repeat("k", 40))}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(t, nil, tt.env)
			if matchErr(t, err, tt.wantErr) {
				return
			}
			if c.MasterKey != tt.want {
				t.Errorf("MasterKey = %q, want %q", c.MasterKey, tt.want)
			}
		})
	}
}

// TestEmptyFileValue: in the YAML file, "key:" with no value is empty like
// an empty variable, and a list or map is refused.
func TestEmptyFileValue(t *testing.T) {
	tests := []struct {
		name, yaml string
		get        func(c *Config) string
		want       string
		wantErr    string
	}{
		{name: "null", yaml: "radius-listen:\n", get: func(c *Config) string { return c.RadiusListen }, want: ""},
		{name: "empty string", yaml: "public-url: \"\"\n", get: func(c *Config) string { return c.PublicURL }, want: ""},
		{name: "list", yaml: "listen: [a, b]\n", wantErr: "single value"},
		{name: "map", yaml: "listen: {a: b}\n", wantErr: "single value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(t, []string{"--config", writeFile(t, "netkeep.yaml", tt.yaml)}, nil)
			if matchErr(t, err, tt.wantErr) {
				return
			}
			if got := tt.get(c); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
