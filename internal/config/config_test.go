package config

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// load resolves args over env (a map standing in for the process
// environment: a key present with "" is a variable set but empty) the way a
// subcommand does.
func load(tb testing.TB, args []string, env map[string]string) (*Config, error) {
	tb.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return Bind(fs).Load(args, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

// mustLoad is load that fails the test on error.
func mustLoad(tb testing.TB, args []string, env map[string]string) *Config {
	tb.Helper()
	c, err := load(tb, args, env)
	if err != nil {
		tb.Fatalf("Load(%q): %v", args, err)
	}
	return c
}

// writeFile writes content to name in a fresh temp dir and returns the path.
func writeFile(tb testing.TB, name, content string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	c := mustLoad(t, nil, nil)
	want := Config{
		Listen:           ":8080",
		DataDir:          "./data",
		LogLevel:         "info",
		LogFormat:        "text",
		MaxBodyBytes:     1 << 20,
		ShutdownTimeout:  15 * time.Second,
		StartHold:        5 * time.Second,
		AccessTokenTTL:   time.Hour,
		RefreshGrace:     10 * time.Minute,
		RadiusListen:     ":1812",
		RadiusAcctListen: ":1813",
		ImportTimeout:    10 * time.Minute,
		ClientConfigTTL:  24 * time.Hour,
		MeshInterfaces:   true,
		DockerHost:       "unix:///var/run/docker.sock",
		HealthInterval:   30 * time.Second,
		HealthTimeout:    5 * time.Second,
		BackupInterval:   24 * time.Hour,
		BackupKeep:       7,

		FederationSyncInterval: time.Minute,
		AuthFailureLimit:       10,
		NekzusAuthLimit:        10,
		LocalTrustRole:         LocalTrustGroupAdmin,
	}
	if *c != want {
		t.Errorf("defaults = %+v\nwant       %+v", *c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

// TestPrecedence: defaults < YAML file < environment < flags, per setting.
func TestPrecedence(t *testing.T) {
	yaml := writeFile(t, "netkeep.yaml", `
listen: "127.0.0.1:7000"
log-level: warn
max-body-bytes: 2048
shutdown-timeout: 3s
trust-proxy-headers: true
public-url: https://file.example.com
client-config-ttl: 12h
`)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(c *Config) (got, want any)
	}{
		{"file over default", []string{"--config", yaml}, nil,
			func(c *Config) (any, any) { return c.Listen, "127.0.0.1:7000" }},
		{"file int", []string{"--config", yaml}, nil,
			func(c *Config) (any, any) { return c.MaxBodyBytes, int64(2048) }},
		{"file duration", []string{"--config", yaml}, nil,
			func(c *Config) (any, any) { return c.ShutdownTimeout, 3 * time.Second }},
		{"file bool", []string{"--config", yaml}, nil,
			func(c *Config) (any, any) { return c.TrustProxyHeaders, true }},
		{"default where the file is silent", []string{"--config", yaml}, nil,
			func(c *Config) (any, any) { return c.LogFormat, "text" }},
		{"file named by NETKEEP_CONFIG", nil, map[string]string{"NETKEEP_CONFIG": yaml},
			func(c *Config) (any, any) { return c.LogLevel, "warn" }},
		{"env over file", []string{"--config", yaml}, map[string]string{"NETKEEP_LISTEN": "127.0.0.1:7001"},
			func(c *Config) (any, any) { return c.Listen, "127.0.0.1:7001" }},
		{"env over default", nil, map[string]string{"NETKEEP_DATA_DIR": "/var/lib/netkeep"},
			func(c *Config) (any, any) { return c.DataDir, "/var/lib/netkeep" }},
		{"empty env is empty over the file", []string{"--config", yaml}, map[string]string{"NETKEEP_PUBLIC_URL": ""},
			func(c *Config) (any, any) { return c.PublicURL, "" }},
		{"empty env is empty over the default", nil, map[string]string{"NETKEEP_RADIUS_LISTEN": ""},
			func(c *Config) (any, any) { return c.RadiusListen, "" }},
		{"empty NETKEEP_CONFIG reads no file", nil, map[string]string{"NETKEEP_CONFIG": ""},
			func(c *Config) (any, any) { return c.Listen, ":8080" }},
		{"env duration", nil, map[string]string{"NETKEEP_ACCESS_TOKEN_TTL": "90m"},
			func(c *Config) (any, any) { return c.AccessTokenTTL, 90 * time.Minute }},
		{"env bool", nil, map[string]string{"NETKEEP_TRUST_PROXY_HEADERS": "true"},
			func(c *Config) (any, any) { return c.TrustProxyHeaders, true }},
		{"flag over env and file", []string{"--config", yaml, "--listen", "127.0.0.1:7002"}, map[string]string{"NETKEEP_LISTEN": "127.0.0.1:7001"},
			func(c *Config) (any, any) { return c.Listen, "127.0.0.1:7002" }},
		{"flag equal to the default still wins", []string{"--log-level", "info"}, map[string]string{"NETKEEP_LOG_LEVEL": "debug"},
			func(c *Config) (any, any) { return c.LogLevel, "info" }},
		{"flag over env int", []string{"--max-body-bytes", "10"}, map[string]string{"NETKEEP_MAX_BODY_BYTES": "20"},
			func(c *Config) (any, any) { return c.MaxBodyBytes, int64(10) }},
		{"--config flag over NETKEEP_CONFIG", []string{"--config", yaml}, map[string]string{"NETKEEP_CONFIG": "/nonexistent.yaml"},
			func(c *Config) (any, any) { return c.Listen, "127.0.0.1:7000" }},
		{"secret key from env only", nil, map[string]string{"NETKEEP_SECRET_KEY": strings.Repeat("s", 32)},
			func(c *Config) (any, any) { return c.SecretKey, strings.Repeat("s", 32) }},
		{"database url from env", nil, map[string]string{"NETKEEP_DATABASE_URL": "postgres://db/netkeep"},
			func(c *Config) (any, any) { return c.DatabaseURL, "postgres://db/netkeep" }},
		{"public url from file", []string{"--config", yaml}, nil,
			func(c *Config) (any, any) { return c.PublicURL, "https://file.example.com" }},
		{"public url env over file", []string{"--config", yaml}, map[string]string{"NETKEEP_PUBLIC_URL": "https://env.example.com"},
			func(c *Config) (any, any) { return c.PublicURL, "https://env.example.com" }},
		{"public url flag over env", []string{"--public-url", "https://flag.example.com:8443/nk"}, map[string]string{"NETKEEP_PUBLIC_URL": "https://env.example.com"},
			func(c *Config) (any, any) { return c.PublicURL, "https://flag.example.com:8443/nk" }},
		{"client config ttl from file", []string{"--config", yaml}, nil,
			func(c *Config) (any, any) { return c.ClientConfigTTL, 12 * time.Hour }},
		{"client config ttl env over file", []string{"--config", yaml}, map[string]string{"NETKEEP_CLIENT_CONFIG_TTL": "2h"},
			func(c *Config) (any, any) { return c.ClientConfigTTL, 2 * time.Hour }},
		{"client config ttl flag over env", []string{"--client-config-ttl", "30m"}, map[string]string{"NETKEEP_CLIENT_CONFIG_TTL": "2h"},
			func(c *Config) (any, any) { return c.ClientConfigTTL, 30 * time.Minute }},
		{"deprecated ttl flag", []string{"--pki-client-cert-ttl", "45m"}, nil,
			func(c *Config) (any, any) { return c.ClientConfigTTL, 45 * time.Minute }},
		{"deprecated ttl env", nil, map[string]string{"NETKEEP_PKI_CLIENT_CERT_TTL": "3h"},
			func(c *Config) (any, any) { return c.ClientConfigTTL, 3 * time.Hour }},
		{"deprecated ttl env over file", []string{"--config", yaml}, map[string]string{"NETKEEP_PKI_CLIENT_CERT_TTL": "3h"},
			func(c *Config) (any, any) { return c.ClientConfigTTL, 3 * time.Hour }},
		{"deprecated ttl flag over new env", []string{"--pki-client-cert-ttl", "45m"}, map[string]string{"NETKEEP_CLIENT_CONFIG_TTL": "2h"},
			func(c *Config) (any, any) { return c.ClientConfigTTL, 45 * time.Minute }},
		{"new ttl env over deprecated file key", []string{"--config", writeFile(t, "old.yaml", "pki-client-cert-ttl: 5h\n")}, map[string]string{"NETKEEP_CLIENT_CONFIG_TTL": "2h"},
			func(c *Config) (any, any) { return c.ClientConfigTTL, 2 * time.Hour }},
		{"deprecated ttl file key", []string{"--config", writeFile(t, "old.yaml", "pki-client-cert-ttl: 5h\n")}, nil,
			func(c *Config) (any, any) { return c.ClientConfigTTL, 5 * time.Hour }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := tt.want(mustLoad(t, tt.args, tt.env))
			if got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

// TestSecretFiles: secrets also come from NETKEEP_<NAME>_FILE (trimmed), below
// the variable itself and the flag; other settings have no _FILE form.
func TestSecretFiles(t *testing.T) {
	key := strings.Repeat("m", 40)
	keyFile := writeFile(t, "master.key", "  "+key+"\n")
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		get     func(c *Config) string
		want    string
		wantErr string
	}{
		{name: "master key from file", env: map[string]string{"NETKEEP_MASTER_KEY_FILE": keyFile},
			get: func(c *Config) string { return c.MasterKey }, want: key},
		{name: "variable over file", env: map[string]string{"NETKEEP_MASTER_KEY_FILE": keyFile, "NETKEEP_MASTER_KEY": strings.Repeat("v", 32)},
			get: func(c *Config) string { return c.MasterKey }, want: strings.Repeat("v", 32)},
		{name: "flag over file", args: []string{"--master-key", strings.Repeat("f", 32)}, env: map[string]string{"NETKEEP_MASTER_KEY_FILE": keyFile},
			get: func(c *Config) string { return c.MasterKey }, want: strings.Repeat("f", 32)},
		{name: "secret key from file", env: map[string]string{"NETKEEP_SECRET_KEY_FILE": keyFile},
			get: func(c *Config) string { return c.SecretKey }, want: key},
		{name: "database url from file", env: map[string]string{"NETKEEP_DATABASE_URL_FILE": writeFile(t, "db", "postgres://u:p@db/x\n")},
			get: func(c *Config) string { return c.DatabaseURL }, want: "postgres://u:p@db/x"},
		{name: "non-secret has no _FILE", env: map[string]string{"NETKEEP_LISTEN_FILE": keyFile},
			get: func(c *Config) string { return c.Listen }, want: ":8080"},
		{name: "missing file", env: map[string]string{"NETKEEP_MASTER_KEY_FILE": "/nonexistent/master.key"},
			wantErr: "NETKEEP_MASTER_KEY_FILE"},
		{name: "import timeout from env", env: map[string]string{"NETKEEP_IMPORT_TIMEOUT": "30m"},
			get: func(c *Config) string { return c.ImportTimeout.String() }, want: "30m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(t, tt.args, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(c); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		file string // YAML content passed with --config
		want string
	}{
		{name: "unknown flag", args: []string{"--nope"}, want: "nope"},
		{name: "secret key is not a flag", args: []string{"--secret-key", strings.Repeat("s", 32)}, want: "secret-key"},
		{name: "bad env number", env: map[string]string{"NETKEEP_MAX_BODY_BYTES": "lots"}, want: "NETKEEP_MAX_BODY_BYTES"},
		{name: "bad env duration", env: map[string]string{"NETKEEP_SHUTDOWN_TIMEOUT": "soon"}, want: "NETKEEP_SHUTDOWN_TIMEOUT"},
		{name: "bad env bool", env: map[string]string{"NETKEEP_TRUST_PROXY_HEADERS": "maybe"}, want: "NETKEEP_TRUST_PROXY_HEADERS"},
		{name: "missing config file", args: []string{"--config", "/nonexistent/netkeep.yaml"}, want: "config file"},
		{name: "unknown file setting", file: "listen: x\nlisten-port: 1\n", want: `unknown setting "listen-port"`},
		{name: "malformed file", file: "listen: [unclosed\n", want: "config file"},
		{name: "bad file duration", file: "shutdown-timeout: 30\n", want: "config file"},
		{name: "ttl flag and its deprecated name", args: []string{"--client-config-ttl", "1h", "--pki-client-cert-ttl", "2h"}, want: "give only --client-config-ttl"},
		{name: "ttl variable and its deprecated name", env: map[string]string{"NETKEEP_CLIENT_CONFIG_TTL": "1h", "NETKEEP_PKI_CLIENT_CERT_TTL": "2h"}, want: "set only NETKEEP_CLIENT_CONFIG_TTL"},
		{name: "ttl file key and its deprecated name", file: "client-config-ttl: 1h\npki-client-cert-ttl: 2h\n", want: "give only client-config-ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config", writeFile(t, "netkeep.yaml", tt.file))
			}
			_, err := load(t, args, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *Config)
		want   string // "" means valid
	}{
		{"defaults", func(c *Config) {}, ""},
		{"log level debug", func(c *Config) { c.LogLevel = "debug" }, ""},
		{"log level unknown", func(c *Config) { c.LogLevel = "verbose" }, "log-level"},
		{"log level upper case", func(c *Config) { c.LogLevel = "INFO" }, "log-level"},
		{"log format json", func(c *Config) { c.LogFormat = "json" }, ""},
		{"log format unknown", func(c *Config) { c.LogFormat = "logfmt" }, "log-format"},
		{"tls pair", func(c *Config) { c.TLSCert, c.TLSKey = "c.pem", "k.pem" }, ""},
		{"tls cert alone", func(c *Config) { c.TLSCert = "c.pem" }, "tls-cert and tls-key"},
		{"tls-listen on the HTTP address", func(c *Config) { c.TLSListen = c.Listen }, "tls-listen: must differ"},
		{"tls-listen", func(c *Config) { c.TLSListen = "127.0.0.1:8443" }, ""},
		{"tls key alone", func(c *Config) { c.TLSKey = "k.pem" }, "tls-cert and tls-key"},
		{"master key off", func(c *Config) { c.MasterKey = "" }, ""},
		{"master key 31 chars", func(c *Config) { c.MasterKey = strings.Repeat("x", MinMasterKeyLen-1) }, "master-key"},
		{"master key 32 chars", func(c *Config) { c.MasterKey = strings.Repeat("x", MinMasterKeyLen) }, ""},
		{"secret key short", func(c *Config) { c.SecretKey = "short" }, "NETKEEP_SECRET_KEY"},
		{"secret key 32 chars", func(c *Config) { c.SecretKey = strings.Repeat("s", 32) }, ""},
		{"data dir empty", func(c *Config) { c.DataDir = "" }, "data-dir"},
		{"max body zero", func(c *Config) { c.MaxBodyBytes = 0 }, "max-body-bytes"},
		{"max body negative", func(c *Config) { c.MaxBodyBytes = -1 }, "max-body-bytes"},
		{"access ttl below a minute", func(c *Config) { c.AccessTokenTTL = 30 * time.Second }, "access-token-ttl"},
		{"client config ttl below a minute", func(c *Config) { c.ClientConfigTTL = 30 * time.Second }, "client-config-ttl"},
		{"client config ttl a week", func(c *Config) { c.ClientConfigTTL = 7 * 24 * time.Hour }, ""},
		{"public url https", func(c *Config) { c.PublicURL = "https://vpn.example.com" }, ""},
		{"public url with port and path", func(c *Config) { c.PublicURL = "http://[fd00::1]:8080/netkeep" }, ""},
		{"public url relative", func(c *Config) { c.PublicURL = "vpn.example.com" }, "public-url"},
		{"public url ftp", func(c *Config) { c.PublicURL = "ftp://vpn.example.com" }, "public-url"},
		{"public url without host", func(c *Config) { c.PublicURL = "https:///x" }, "public-url"},
		{"public url trailing slash", func(c *Config) { c.PublicURL = "https://vpn.example.com/" }, "public-url"},
		{"public url query", func(c *Config) { c.PublicURL = "https://vpn.example.com?a=b" }, "public-url"},
		{"public url user", func(c *Config) { c.PublicURL = "https://u:p@vpn.example.com" }, "public-url"},
		{"public url shell quote in path", func(c *Config) { c.PublicURL = "https://vpn.example.com/a'b" }, "public-url"},
		{"database mysql", func(c *Config) { c.DatabaseURL = "mysql://x" }, "database-url"},
		{"database bad postgres url", func(c *Config) { c.DatabaseURL = "postgres://%zz" }, "database-url"},
		{"database sqlite without path", func(c *Config) { c.DatabaseURL = "sqlite:" }, "database-url"},
		{"database postgres", func(c *Config) { c.DatabaseURL = "postgres://u@h/db?sslmode=disable" }, ""},
		{"import timeout below 1s", func(c *Config) { c.ImportTimeout = 500 * time.Millisecond }, "import-timeout: must be at least 1s"},
		{"import timeout 1h", func(c *Config) { c.ImportTimeout = time.Hour }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, nil, nil)
			tt.modify(c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestValidateDoesNotRevealSecrets(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *Config)
		secret string
	}{
		{"master key", func(c *Config) { c.MasterKey = "master-short-1" }, "master-short-1"},
		{"secret key", func(c *Config) { c.SecretKey = "secret-short-2" }, "secret-short-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, nil, nil)
			tt.modify(c)
			if err := c.Validate(); err == nil || strings.Contains(err.Error(), tt.secret) {
				t.Errorf("Validate() = %v; want an error that does not contain the value", err)
			}
		})
	}
}

func TestDatabase(t *testing.T) {
	tests := []struct {
		name, url string
		wantKind  DatabaseKind
		wantDSN   string
		wantErr   bool
	}{
		{"empty is SQLite in the data dir", "", SQLite, filepath.Join("/srv/nk", "netkeep.db"), false},
		{"sqlite path", "sqlite:/tmp/x.db", SQLite, "/tmp/x.db", false},
		{"sqlite URL form", "sqlite:///tmp/x.db", SQLite, "/tmp/x.db", false},
		{"sqlite relative", "sqlite:rel.db", SQLite, "rel.db", false},
		{"postgres", "postgres://u@h:5432/db", Postgres, "postgres://u@h:5432/db", false},
		{"postgresql scheme", "postgresql://u@h/db", Postgres, "postgresql://u@h/db", false},
		{"mysql", "mysql://x", "", "", true},
		{"bare path", "/tmp/x.db", "", "", true},
		{"sqlite without path", "sqlite://", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{DataDir: "/srv/nk", DatabaseURL: tt.url}
			kind, dsn, err := c.Database()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if kind != tt.wantKind || dsn != tt.wantDSN {
				t.Errorf("Database() = %q, %q; want %q, %q", kind, dsn, tt.wantKind, tt.wantDSN)
			}
		})
	}
}

// TestFlagsDocumentEnv: every documented flag exists and its help names its
// environment variable; env-only secrets are not flags.
func TestFlagsDocumentEnv(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	Bind(fs)
	for _, name := range []string{"listen", "data-dir", "database-url", "log-level", "log-format", "tls-cert", "tls-key",
		"master-key", "max-body-bytes", "shutdown-timeout", "access-token-ttl", "refresh-grace", "trust-proxy-headers", "config",
		"client-config-ttl", "pki-client-cert-ttl"} {
		f := fs.Lookup(name)
		if f == nil {
			t.Errorf("no flag --%s", name)
			continue
		}
		if !strings.Contains(f.Usage, EnvName(name)) {
			t.Errorf("--%s usage %q does not name %s", name, f.Usage, EnvName(name))
		}
	}
	if fs.Lookup("secret-key") != nil {
		t.Error("secret-key is a flag; it must be env-only so it never shows in ps")
	}
}

func TestEnvName(t *testing.T) {
	tests := []struct{ flag, want string }{
		{"listen", "NETKEEP_LISTEN"},
		{"data-dir", "NETKEEP_DATA_DIR"},
		{"trust-proxy-headers", "NETKEEP_TRUST_PROXY_HEADERS"},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			if got := EnvName(tt.flag); got != tt.want {
				t.Errorf("EnvName(%q) = %q, want %q", tt.flag, got, tt.want)
			}
		})
	}
}

func TestLocalTrustNetworks(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{"", "[]", ""},
		{"loopback", "[127.0.0.0/8 ::1/128]", ""},
		{" 10.1.2.3/8 , 192.0.2.7, fd00::/8", "[10.0.0.0/8 192.0.2.7/32 fd00::/8]", ""},
		{"::ffff:192.0.2.7", "[192.0.2.7/32]", ""},
		{"10.0.0.0/33", "", "local-trust"},
		{"localhost", "", "local-trust"},
	}
	for _, tt := range tests {
		c := &Config{LocalTrust: tt.in}
		got, err := c.LocalTrustNetworks()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want one naming %s", tt.in, err, tt.wantErr)
			}
			continue
		}
		if s := fmt.Sprint(got); err != nil || (s != tt.want && !(tt.want == "[]" && len(got) == 0)) {
			t.Errorf("%q: %s %v, want %s", tt.in, s, err, tt.want)
		}
	}
}

// TestLocalTrustRole: local trust acts as GROUP_ADMIN unless SUPER_ADMIN
// is chosen; any other role (USER, a misspelling) is a startup error.
func TestLocalTrustRole(t *testing.T) {
	tests := []struct {
		args    []string
		want    string
		wantErr string
	}{
		{nil, LocalTrustGroupAdmin, ""},
		{[]string{"--local-trust-role", "SUPER_ADMIN"}, LocalTrustSuperAdmin, ""},
		{[]string{"--local-trust-role", "super_admin"}, "", "local-trust-role"},
		{[]string{"--local-trust-role", "USER"}, "", "local-trust-role"},
	}
	for _, tt := range tests {
		c, err := load(t, tt.args, nil)
		if err == nil {
			err = c.Validate()
		}
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: error %v, want one naming %s", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || c.LocalTrustRole != tt.want {
			t.Errorf("%v: %q %v, want %q", tt.args, c.LocalTrustRole, err, tt.want)
		}
	}
}
