// Command netkeep is the netkeep control plane: one binary that serves the API
// (serve), applies migrations (migrate), manages administrators (admin) and
// joins hosts to WireGuard meshes (agent). main is wiring only.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"netkeep/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// buildDate is set at build time with -ldflags "-X main.buildDate=YYYY-MM-DD".
var buildDate string

func main() {
	// Files netkeep creates (database, WAL, secret key) are the owner's alone.
	syscall.Umask(0o077)
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv))
}

// env is how the process sees its environment (tests pass their own).
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// lookupEnv tells a variable set to "" from one not set: for every
	// setting, set but empty means empty, not the default.
	lookupEnv config.LookupEnv
}

// fail prints one line to stderr and returns exit code 1; errors never show
// a stack trace.
func (e env) fail(format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	msg = strings.ReplaceAll(strings.TrimSpace(msg), "\n", "; ")
	msg = strings.Join(strings.Fields(msg), " ") // one line, no tab runs
	fmt.Fprintln(e.stderr, "netkeep: "+msg)
	return 1
}

const usage = `netkeep: the network access control plane

Usage:
  netkeep serve [flags]              run the server
  netkeep migrate [flags]            apply database migrations and exit
  netkeep admin create --username U [--password P] [--email E]
                                     create a SUPER_ADMIN (password from stdin when omitted)
  netkeep pki import --cert ca.pem --key ca-key.pem [--force]
                                     make an existing CA the one netkeep issues from
  netkeep agent join <accessstring> [flags]
                                     join this host to a WireGuard mesh network and run
  netkeep agent up | leave           run from the saved state | leave the network
  netkeep backup [--description D] | backup list
                                     take a backup into the backups directory | list them
  netkeep restore [--facets all|f1,f2] <backup id>
                                     restore a backup (stop a SQLite server first)
  netkeep version                    print the version

Run "netkeep <command> --help" for the flags of a command. Every flag can also
be set with an environment variable NETKEEP_<FLAG_NAME>; flags win. A variable
set to the empty string means empty (an empty NETKEEP_RADIUS_LISTEN disables
RADIUS), not the default.
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, lookupEnv config.LookupEnv) int {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr, lookupEnv: lookupEnv}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return cmdServe(e, args[1:])
	case "migrate":
		return cmdMigrate(e, args[1:])
	case "admin":
		return cmdAdmin(e, args[1:])
	case "pki":
		return cmdPKI(e, args[1:])
	case "agent":
		return cmdAgent(e, args[1:])
	case "backup":
		return cmdBackup(e, args[1:])
	case "restore":
		return cmdRestore(e, args[1:])
	case "version", "--version":
		fmt.Fprintln(stdout, "netkeep", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprint(stderr, usage)
	return e.fail("unknown command %q", args[0])
}
