// Package config holds netkeep's one typed configuration. Values come, in rising
// precedence, from defaults, an optional YAML file, NETKEEP_* environment
// variables (and NETKEEP_*_FILE for secrets) and command-line flags. Nothing
// here is global: the Config is built once in main and passed down.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MinMasterKeyLen is the shortest master key the server accepts.
const MinMasterKeyLen = 32

// Config is the whole server configuration.
type Config struct {
	ConfigFile  string
	Listen      string
	DataDir     string
	DatabaseURL string
	LogLevel    string
	LogFormat   string
	TLSCert     string
	TLSKey      string
	// TLSListen is the address of a second listener that serves HTTPS
	// with the certificates generated through the API (hot reloaded);
	// empty: off.
	TLSListen    string
	MasterKey    string
	SecretKey    string
	MaxBodyBytes int64
	// ImportTimeout bounds a CSV import's upload, from the request's start
	// to its last byte (POST /api/v1/psks/import); it replaces the read
	// timeout for that route only.
	ImportTimeout   time.Duration
	ShutdownTimeout time.Duration
	// StartHold is how long a request arriving while the server starts
	// (migrations, loading the directory and the mesh) waits for it to be
	// ready before it is answered 503; 0 answers 503 at once.
	StartHold      time.Duration
	AccessTokenTTL time.Duration
	RefreshGrace   time.Duration
	// TrustProxyHeaders makes X-Forwarded-For's last entry (the proxy's)
	// the client address; only for a server behind a proxy that sets or
	// appends it.
	TrustProxyHeaders bool
	// RadiusListen and RadiusAcctListen are the RADIUS authentication and
	// accounting UDP addresses; empty disables that listener.
	RadiusListen     string
	RadiusAcctListen string
	// PublicURL is the externally visible base URL (scheme://host[:port][/path],
	// no trailing slash) put into links the server gives out: access strings,
	// the agent's install script. Empty: derived from each request.
	PublicURL string
	// ClientConfigTTL is the lifetime of a VPN client configuration,
	// OpenVPN and WireGuard alike, and so of an OpenVPN configuration's
	// client certificate: the one default lifetime of client credentials.
	ClientConfigTTL time.Duration
	// MeshInterfaces runs the server's own mesh nodes (POST
	// /api/server/addnetwork) as WireGuard interfaces on this host.
	MeshInterfaces bool
	// AppsFile is a YAML or JSON route file loaded at start (Nekzus apps
	// kept in git); empty: none.
	AppsFile string
	// DockerHost is the Docker engine discovery watches; empty disables
	// discovery.
	DockerHost string
	// HealthInterval and HealthTimeout pace the apps' upstream health checks.
	HealthInterval time.Duration
	HealthTimeout  time.Duration
	// SSOProviders is a YAML file of identity providers to sign in through
	// (sso.ProvidersFile); empty: only those configured through the API.
	SSOProviders string
	// GeoIPDB is a MaxMind-format country database (.mmdb) for
	// geo-fencing; empty: every address's country is unknown.
	GeoIPDB string
	// GateKeyWebLogin is the path of GateKey's web UI sign-in page, when
	// that UI is served in front of netkeep: the command-line login then
	// goes there with a state, as GateKey's server does, and the UI
	// finishes it at /api/v1/auth/cli/complete?state=; empty: netkeep's
	// own sign-in page.
	GateKeyWebLogin string
	// Backups: where they go (empty: <data-dir>/backups), how often the
	// scheduler takes one (0: never), and how many and how old they may
	// get (0: no limit).
	BackupDir      string
	BackupInterval time.Duration
	BackupKeep     int
	BackupMaxAge   time.Duration
	// ScriptsDir is the directory of scripts administrators may register
	// and run; empty turns scripts off.
	ScriptsDir string
	// LocalTrust lists the networks whose requests without credentials act
	// in the default group, as LocalTrustRole, on Nekzus's "IP-based
	// (local)" endpoints (see LocalTrustNetworks); empty: off.
	LocalTrust string
	// LocalTrustRole is the role such a request acts with: GROUP_ADMIN
	// (the default group's administrator, never any other group's) or
	// SUPER_ADMIN (every group, and the server-wide endpoints: backups,
	// scripts, containers, the host's resources).
	LocalTrustRole string
	// Federation: the mutual-TLS listener peers call (empty: federation
	// is off), the URL they reach it at (empty: https://<listen address>),
	// this instance's name for them, and how often peers' catalogs are
	// fetched.
	FederationListen       string
	FederationURL          string
	FederationName         string
	FederationSyncInterval time.Duration
	// AuthFailureLimit is how many failed sign-in attempts (login, setup,
	// refresh, in every dialect together) one client address may make per
	// minute; successful ones do not count (see api.SignIn).
	AuthFailureLimit int
	// NekzusAuthLimit is how many requests one client address may make
	// per minute to Nekzus's Authentication endpoints together (setup,
	// login, refresh, me, logout, the pairing redemption and the pairing);
	// the document's 10 by default, raised for many clients behind one
	// NAT.
	NekzusAuthLimit int
}

// DefaultImportTimeout is import-timeout's default: 1,000,000 rows take
// a few minutes on SQLite and PostgreSQL alike.
const DefaultImportTimeout = 10 * time.Minute

// BackupDirectory is the backups directory in effect.
func (c *Config) BackupDirectory() string {
	if c.BackupDir != "" {
		return c.BackupDir
	}
	return filepath.Join(c.DataDir, "backups")
}

// option is one row of the configuration table.
type option struct {
	name   string // flag name; env is NETKEEP_ + upper snake of it
	usage  string
	secret bool // secrets are never printed and also read from NETKEEP_<NAME>_FILE
	noFlag bool // env/file only (secrets that must not show up in ps)
	// aliases are deprecated names still accepted as flag, variable and
	// file key. Giving a name and its alias at one level (two flags, two
	// variables, two file keys) is an error; across levels the usual
	// precedence holds.
	aliases []string
	bind    func(fs *flag.FlagSet, c *Config, name, usage string)
}

func str(p func(*Config) *string, def string) func(*flag.FlagSet, *Config, string, string) {
	return func(fs *flag.FlagSet, c *Config, name, usage string) { fs.StringVar(p(c), name, def, usage) }
}

func dur(p func(*Config) *time.Duration, def time.Duration) func(*flag.FlagSet, *Config, string, string) {
	return func(fs *flag.FlagSet, c *Config, name, usage string) { fs.DurationVar(p(c), name, def, usage) }
}

// options is the configuration table: every setting, its default and its help.
var options = []option{
	{name: "config", usage: "optional YAML file with settings (keys are flag names)", bind: str(func(c *Config) *string { return &c.ConfigFile }, "")},
	{name: "listen", usage: "HTTP listen address", bind: str(func(c *Config) *string { return &c.Listen }, ":8080")},
	{name: "data-dir", usage: "directory for the SQLite database and secret.key", bind: str(func(c *Config) *string { return &c.DataDir }, "./data")},
	{name: "database-url", usage: "empty for SQLite in the data dir, or postgres://...", secret: true, bind: str(func(c *Config) *string { return &c.DatabaseURL }, "")},
	{name: "log-level", usage: "debug, info, warn or error", bind: str(func(c *Config) *string { return &c.LogLevel }, "info")},
	{name: "log-format", usage: "text or json", bind: str(func(c *Config) *string { return &c.LogFormat }, "text")},
	{name: "tls-cert", usage: "TLS certificate file (HTTPS when set with --tls-key)", bind: str(func(c *Config) *string { return &c.TLSCert }, "")},
	{name: "tls-key", usage: "TLS key file", bind: str(func(c *Config) *string { return &c.TLSKey }, "")},
	{name: "tls-listen", usage: "HTTPS listen address serving the certificates generated with POST /api/v1/certificates/generate, reloaded without a restart; empty: off",
		bind: str(func(c *Config) *string { return &c.TLSListen }, "")},
	{name: "master-key", usage: "Netmaker-style master key (Bearer), at least 32 characters; off when empty", secret: true, bind: str(func(c *Config) *string { return &c.MasterKey }, "")},
	{name: "secret-key", usage: "root secret for JWT signing and encryption at rest; default: <data-dir>/secret.key", secret: true, noFlag: true, bind: str(func(c *Config) *string { return &c.SecretKey }, "")},
	{name: "max-body-bytes", usage: "largest request body accepted", bind: func(fs *flag.FlagSet, c *Config, name, usage string) {
		fs.Int64Var(&c.MaxBodyBytes, name, 1<<20, usage)
	}},
	{name: "import-timeout", usage: "how long a PSK CSV import's upload may take", bind: dur(func(c *Config) *time.Duration { return &c.ImportTimeout }, DefaultImportTimeout)},
	{name: "shutdown-timeout", usage: "how long in-flight requests may run after SIGTERM", bind: dur(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, 15*time.Second)},
	{name: "start-hold", usage: "how long a request arriving while the server starts waits for it before 503", bind: dur(func(c *Config) *time.Duration { return &c.StartHold }, 5*time.Second)},
	{name: "access-token-ttl", usage: "lifetime of JWT access tokens", bind: dur(func(c *Config) *time.Duration { return &c.AccessTokenTTL }, time.Hour)},
	{name: "refresh-grace", usage: "how long after expiry a bearer token may still be refreshed", bind: dur(func(c *Config) *time.Duration { return &c.RefreshGrace }, 10*time.Minute)},
	{name: "trust-proxy-headers", usage: "take the client address from X-Forwarded-For (its last entry, the proxy's)", bind: func(fs *flag.FlagSet, c *Config, name, usage string) {
		fs.BoolVar(&c.TrustProxyHeaders, name, false, usage)
	}},
	{name: "radius-listen", usage: "RADIUS authentication UDP address; empty disables it", bind: str(func(c *Config) *string { return &c.RadiusListen }, ":1812")},
	{name: "radius-acct-listen", usage: "RADIUS accounting UDP address; empty disables it", bind: str(func(c *Config) *string { return &c.RadiusAcctListen }, ":1813")},
	{name: "public-url", usage: "externally visible base URL for links the server gives out (access strings, downloads); empty: derived from the request", bind: str(func(c *Config) *string { return &c.PublicURL }, "")},
	{name: "client-config-ttl", usage: "lifetime of VPN client configs, OpenVPN and WireGuard, and of their client certificates", aliases: []string{"pki-client-cert-ttl"},
		bind: dur(func(c *Config) *time.Duration { return &c.ClientConfigTTL }, 24*time.Hour)},
	{name: "gatekey-web-login", usage: "path of GateKey's web UI sign-in page (e.g. /login) for the command-line browser login; empty: netkeep's own page", bind: str(func(c *Config) *string { return &c.GateKeyWebLogin }, "")},
	{name: "geoip-db", usage: "MaxMind-format country database (.mmdb) for geo-fencing; empty: countries are unknown", bind: str(func(c *Config) *string { return &c.GeoIPDB }, "")},
	{name: "mesh-interfaces", usage: "run the server's own mesh nodes (addnetwork) as WireGuard interfaces on this host (needs root)", bind: func(fs *flag.FlagSet, c *Config, name, usage string) {
		fs.BoolVar(&c.MeshInterfaces, name, true, usage)
	}},
	{name: "apps-file", usage: "YAML or JSON file of app routes loaded at start (the file owns the apps it lists); empty: none", bind: str(func(c *Config) *string { return &c.AppsFile }, "")},
	{name: "docker-host", usage: "Docker engine that app discovery watches and the toolbox deploys on; empty disables both", bind: str(func(c *Config) *string { return &c.DockerHost }, "unix:///var/run/docker.sock")},
	{name: "health-interval", usage: "how often each app route's upstream is health-checked", bind: dur(func(c *Config) *time.Duration { return &c.HealthInterval }, 30*time.Second)},
	{name: "health-timeout", usage: "how long one upstream health check may take", bind: dur(func(c *Config) *time.Duration { return &c.HealthTimeout }, 5*time.Second)},
	{name: "sso-providers", usage: "YAML file of OIDC/SAML identity providers to sign in through; empty: only those configured through the API", bind: str(func(c *Config) *string { return &c.SSOProviders }, "")},
	{name: "backup-dir", usage: "directory for backups; empty: <data-dir>/backups", bind: str(func(c *Config) *string { return &c.BackupDir }, "")},
	{name: "backup-interval", usage: "how often the scheduler takes a backup; 0 disables it", bind: dur(func(c *Config) *time.Duration { return &c.BackupInterval }, 24*time.Hour)},
	{name: "backup-keep", usage: "how many backups are kept (the newest); 0: no limit", bind: func(fs *flag.FlagSet, c *Config, name, usage string) {
		fs.IntVar(&c.BackupKeep, name, 7, usage)
	}},
	{name: "scripts-dir", usage: "directory of scripts a SUPER_ADMIN may register and run; empty: scripts are off", bind: str(func(c *Config) *string { return &c.ScriptsDir }, "")},
	{name: "backup-max-age", usage: "backups older than this are deleted (the newest always stays); 0: no limit", bind: dur(func(c *Config) *time.Duration { return &c.BackupMaxAge }, 0)},
	{name: "local-trust", usage: "comma-separated networks (CIDR or address, \"loopback\" for 127.0.0.0/8 and ::1) whose requests without credentials act in the default group, as --local-trust-role, on Nekzus's IP-based endpoints; empty: off",
		bind: str(func(c *Config) *string { return &c.LocalTrust }, "")},
	{name: "local-trust-role", usage: "the role --local-trust requests act with: GROUP_ADMIN (the default group's administrator) or SUPER_ADMIN (every group and the server-wide endpoints: backups, scripts, containers, system)",
		bind: str(func(c *Config) *string { return &c.LocalTrustRole }, LocalTrustGroupAdmin)},
	{name: "federation-listen", usage: "TCP address of the mutual-TLS listener federation peers call; empty: federation is off", bind: str(func(c *Config) *string { return &c.FederationListen }, "")},
	{name: "federation-url", usage: "https URL peers reach the federation listener at (put in join tokens); empty: https://<federation-listen address>", bind: str(func(c *Config) *string { return &c.FederationURL }, "")},
	{name: "federation-name", usage: "this instance's name as its federation peers show it; empty: the host name", bind: str(func(c *Config) *string { return &c.FederationName }, "")},
	{name: "federation-sync-interval", usage: "how often every federation peer's app catalog is fetched", bind: dur(func(c *Config) *time.Duration { return &c.FederationSyncInterval }, time.Minute)},
	{name: "auth-failure-limit", usage: "failed sign-in attempts (login, setup, refresh, every dialect together) allowed per client address per minute; successful sign-ins do not count", bind: func(fs *flag.FlagSet, c *Config, name, usage string) {
		fs.IntVar(&c.AuthFailureLimit, name, 10, usage)
	}},
	{name: "nekzus-auth-limit", usage: "requests per client address per minute to Nekzus's authentication endpoints together (/api/v1/auth/* but the QR code, /api/v1/pair); raise it for many clients behind one NAT", bind: func(fs *flag.FlagSet, c *Config, name, usage string) {
		fs.IntVar(&c.NekzusAuthLimit, name, 10, usage)
	}},
}

// EnvName is the environment variable of a flag name.
func EnvName(flagName string) string {
	return "NETKEEP_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Loader binds the configuration to a flag set and resolves it.
type Loader struct {
	fs     *flag.FlagSet
	cfg    Config
	hidden *flag.FlagSet // holds env-only options so they resolve like the rest
}

// Bind registers every option as a flag of fs and returns the loader.
func Bind(fs *flag.FlagSet) *Loader {
	l := &Loader{fs: fs, hidden: flag.NewFlagSet("env", flag.ContinueOnError)}
	for _, o := range options {
		target := fs
		if o.noFlag {
			target = l.hidden
		}
		usage := o.usage + " (" + EnvName(o.name) + ")"
		o.bind(target, &l.cfg, o.name, usage)
		for _, a := range o.aliases {
			o.bind(target, &l.cfg, a, "deprecated name of --"+o.name+" ("+EnvName(a)+")")
		}
	}
	return l
}

// LookupEnv reads one environment variable and whether it is set at all;
// os.LookupEnv outside tests.
type LookupEnv func(name string) (value string, set bool)

// Load parses args and applies, for every flag not given, the environment and
// then the YAML file.
//
// A variable that is set wins over the file even when it is empty: an empty
// NETKEEP_RADIUS_LISTEN disables RADIUS as an empty --radius-listen does,
// and an empty NETKEEP_CONFIG reads no file. Where empty is not a value
// (numbers, durations, booleans, a _FILE path) a set but empty variable is a
// startup error naming it, never the default.
func (l *Loader) Load(args []string, lookup LookupEnv) (*Config, error) {
	if err := l.fs.Parse(args); err != nil {
		return nil, err
	}
	given := map[string]bool{}
	l.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	fileValues := map[string]string{}
	cfgFile := l.cfg.ConfigFile
	if !given["config"] {
		cfgFile, _ = lookup(EnvName("config"))
		l.cfg.ConfigFile = cfgFile
	}
	if cfgFile != "" {
		var err error
		if fileValues, err = readYAML(cfgFile); err != nil {
			return nil, err
		}
	}
	for _, o := range options {
		names := append([]string{o.name}, o.aliases...)
		if n := countIf(names, func(n string) bool { return given[n] }); n > 1 {
			return nil, fmt.Errorf("--%s and --%s are one setting: give only --%s", o.name, o.aliases[0], o.name)
		} else if n == 1 || o.name == "config" {
			continue
		}
		fs := l.fs
		if o.noFlag {
			fs = l.hidden
		}
		v, ok, source, err := lookupEnv(o, names, lookup)
		if err != nil {
			return nil, err
		}
		if !ok {
			var key string
			if v, key, ok, err = fileValue(fileValues, names); err != nil {
				return nil, fmt.Errorf("config file %s: %v", cfgFile, err)
			}
			source = fmt.Sprintf("config file %s: %s", cfgFile, key)
		}
		if !ok {
			continue
		}
		if err := fs.Set(o.name, v); err != nil {
			if v == "" {
				return nil, fmt.Errorf("%s is set but empty; give it a value, or unset it for the default %q", source, fs.Lookup(o.name).DefValue)
			}
			return nil, fmt.Errorf("%s: %v", source, err)
		}
	}
	cfg := l.cfg
	return &cfg, nil
}

// lookupEnv returns o's value from NETKEEP_<NAME> (names are o's name and
// its aliases), or for a secret from the file NETKEEP_<NAME>_FILE names,
// whether one is set, and the variable it came from.
func lookupEnv(o option, names []string, lookup LookupEnv) (value string, ok bool, source string, err error) {
	for _, n := range names {
		v, set := lookup(EnvName(n))
		if !set {
			continue
		}
		if ok {
			return "", false, "", fmt.Errorf("%s and %s are one setting: set only %s", EnvName(o.name), EnvName(n), EnvName(o.name))
		}
		value, ok, source = v, true, EnvName(n)
	}
	if ok || !o.secret {
		return value, ok, source, nil
	}
	env := EnvName(o.name)
	path, set := lookup(env + "_FILE")
	if !set {
		return "", false, "", nil
	}
	if path == "" {
		return "", false, "", fmt.Errorf("%s_FILE is set but empty; name the file holding the value, or unset it", env)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false, "", fmt.Errorf("%s_FILE: %v", env, err)
	}
	return strings.TrimSpace(string(b)), true, env + "_FILE", nil
}

// fileValue returns the file's value for a setting known by names (its
// name and aliases) and the key it was under.
func fileValue(values map[string]string, names []string) (value, key string, ok bool, err error) {
	for _, n := range names {
		v, set := values[n]
		if !set {
			continue
		}
		if ok {
			return "", "", false, fmt.Errorf("%s and %s are one setting: give only %s", names[0], n, names[0])
		}
		value, key, ok = v, n, true
	}
	return value, key, ok, nil
}

func countIf(names []string, f func(string) bool) int {
	n := 0
	for _, name := range names {
		if f(name) {
			n++
		}
	}
	return n
}

func readYAML(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %v", err)
	}
	raw := map[string]any{}
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("config file %s: %v", path, err)
	}
	known := map[string]bool{}
	for _, o := range options {
		known[o.name] = true
		for _, a := range o.aliases {
			known[a] = true
		}
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if !known[k] {
			return nil, fmt.Errorf("config file %s: unknown setting %q", path, k)
		}
		switch v.(type) {
		case nil: // "key:" with no value means empty, as an empty variable does
			out[k] = ""
		case map[string]any, []any:
			return nil, fmt.Errorf("config file %s: %s must be a single value", path, k)
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out, nil
}

// DatabaseKind is "sqlite" or "postgres".
type DatabaseKind string

// The supported databases.
const (
	SQLite   DatabaseKind = "sqlite"
	Postgres DatabaseKind = "postgres"
)

// Database returns the database kind and its driver data source.
func (c *Config) Database() (DatabaseKind, string, error) {
	u := c.DatabaseURL
	switch {
	case u == "":
		return SQLite, filepath.Join(c.DataDir, "netkeep.db"), nil
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		if _, err := url.Parse(u); err != nil {
			return "", "", errors.New("database-url: not a valid URL")
		}
		return Postgres, u, nil
	case strings.HasPrefix(u, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(u, "sqlite:"), "//")
		if p == "" {
			return "", "", errors.New("database-url: sqlite: needs a file path")
		}
		return SQLite, p, nil
	default:
		return "", "", errors.New("database-url: must be empty (SQLite), sqlite:<path> or postgres://<host>/<database>")
	}
}

// Validate checks the settings that can be checked without touching the
// outside world.
func (c *Config) Validate() error {
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log-level: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("log-format: %q is not text or json", c.LogFormat)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("tls-cert and tls-key must be set together")
	}
	if c.MasterKey != "" && len(c.MasterKey) < MinMasterKeyLen {
		return fmt.Errorf("master-key: must be at least %d characters", MinMasterKeyLen)
	}
	if c.SecretKey != "" && len(c.SecretKey) < MinMasterKeyLen {
		return fmt.Errorf("NETKEEP_SECRET_KEY: must be at least %d characters", MinMasterKeyLen)
	}
	if c.Listen == "" {
		return errors.New("listen: must not be empty")
	}
	if w := c.GateKeyWebLogin; w != "" && (!strings.HasPrefix(w, "/") || strings.HasPrefix(w, "//") || strings.ContainsAny(w, "?#\\")) {
		return fmt.Errorf("gatekey-web-login: %q must be a path on this server, such as /login", w)
	}
	if c.TLSListen != "" && c.TLSListen == c.Listen {
		return errors.New("tls-listen: must differ from listen")
	}
	if c.DataDir == "" {
		return errors.New("data-dir: must not be empty")
	}
	if c.MaxBodyBytes <= 0 {
		return errors.New("max-body-bytes: must be positive")
	}
	if c.AccessTokenTTL < time.Minute {
		return errors.New("access-token-ttl: must be at least 1m")
	}
	if c.ImportTimeout < time.Second {
		return errors.New("import-timeout: must be at least 1s")
	}
	if c.ClientConfigTTL < time.Minute {
		return errors.New("client-config-ttl: must be at least 1m")
	}
	if c.HealthInterval < time.Second || c.HealthTimeout <= 0 || c.HealthTimeout > c.HealthInterval {
		return errors.New("health-interval must be at least 1s and health-timeout positive and at most the interval")
	}
	if c.BackupInterval < 0 || (c.BackupInterval > 0 && c.BackupInterval < time.Minute) {
		return errors.New("backup-interval: must be 0 (off) or at least 1m")
	}
	if c.AuthFailureLimit < 1 {
		return errors.New("auth-failure-limit: must be at least 1")
	}
	if c.NekzusAuthLimit < 1 {
		return errors.New("nekzus-auth-limit: must be at least 1")
	}
	if c.BackupKeep < 0 || c.BackupMaxAge < 0 {
		return errors.New("backup-keep and backup-max-age must not be negative")
	}
	if c.FederationSyncInterval < time.Second {
		return errors.New("federation-sync-interval: must be at least 1s")
	}
	if u, err := url.Parse(c.FederationURL); c.FederationURL != "" && (err != nil || u.Scheme != "https" || u.Host == "") {
		return errors.New("federation-url: must be https://host[:port]")
	}
	if err := validPublicURL(c.PublicURL); err != nil {
		return err
	}
	if _, err := c.LocalTrustNetworks(); err != nil {
		return err
	}
	if c.LocalTrustRole != LocalTrustGroupAdmin && c.LocalTrustRole != LocalTrustSuperAdmin {
		return fmt.Errorf("local-trust-role: %q is neither %s nor %s", c.LocalTrustRole, LocalTrustGroupAdmin, LocalTrustSuperAdmin)
	}
	_, _, err := c.Database()
	return err
}

// publicPath is what a public URL's path may hold: links are built by
// appending to it, and the install script quotes it in shell.
var publicPath = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)*$`)

// validPublicURL accepts "" or an absolute http(s) URL with a host, an
// optional plain path, and nothing else (no user, query, fragment or
// trailing slash).
func validPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("public-url: not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("public-url: must start with http:// or https://")
	case u.Host == "" || u.Hostname() == "" || strings.ContainsAny(u.Host, "'\"` $"):
		return errors.New("public-url: needs a host")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || strings.HasSuffix(s, "#"):
		return errors.New("public-url: must not carry a user, query or fragment")
	case !publicPath.MatchString(u.Path) || u.RawPath != "":
		return errors.New("public-url: the path may hold only letters, digits and . _ ~ - between slashes, with no trailing slash")
	}
	return nil
}
