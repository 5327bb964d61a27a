package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os/signal"
	"strings"
	"syscall"

	"netkeep/internal/agent"
	"netkeep/internal/config"
	"netkeep/internal/wg"
)

const agentUsage = `usage:
  netkeep agent join <accessstring> [flags]   register this host and run (resumes an existing state)
  netkeep agent join --server URL --network NET --key KEY [flags]
  netkeep agent up [--state-dir DIR]            run from the saved state
  netkeep agent leave [--state-dir DIR]         delete this host's node and remove the interface`

// defaultStateDir is where the agent keeps its key and credentials.
const defaultStateDir = "/var/lib/netkeep-agent"

// cmdAgent joins this host to a mesh network and keeps its WireGuard
// interface in line with the server (see internal/agent).
func cmdAgent(e env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, agentUsage)
		return 2
	}
	switch args[0] {
	case "join", "up", "leave":
	case "help", "-h", "--help":
		fmt.Fprintln(e.stdout, agentUsage)
		return 0
	default:
		fmt.Fprintln(e.stderr, agentUsage)
		return e.fail("agent: unknown command %q", args[0])
	}
	verb := args[0]
	fs := flag.NewFlagSet("netkeep agent "+verb, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var o agent.JoinOptions
	var stateDir, mode, logLevel string
	fs.StringVar(&stateDir, "state-dir", defaultStateDir, "directory of the agent's state (private key, credentials; mode 0700)")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	if verb == "join" {
		fs.StringVar(&o.Server, "server", "", "server base URL (instead of an access string)")
		fs.StringVar(&o.Network, "network", "", "network id (instead of an access string)")
		fs.StringVar(&o.Key, "key", "", "access key value (instead of an access string)")
		fs.StringVar(&o.Name, "name", "", "node name (default: the host name)")
		fs.StringVar(&o.Interface, "interface", "", "WireGuard interface name (default: the network's)")
		fs.StringVar(&o.Endpoint, "endpoint", "", "IP address peers reach this host at (default: the address that reaches the server)")
		fs.IntVar(&o.ListenPort, "listen-port", 0, "WireGuard UDP port (default: the network's)")
		fs.StringVar(&o.MACAddress, "macaddress", "", "node identity in the network (default: a random local MAC)")
		fs.StringVar(&mode, "wireguard", "auto", "auto, kernel or userspace (WireGuard compiled into netkeep, over TUN)")
	}
	var access string
	rest := args[1:]
	if verb == "join" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		access, rest = rest[0], rest[1:]
	}
	if err := parseAgentFlags(fs, rest, e.lookupEnv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return e.fail("agent %s: %v", verb, err)
	}
	if access == "" && fs.NArg() > 0 && verb == "join" {
		access = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return e.fail("agent %s: unexpected argument %q", verb, fs.Arg(0))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return e.fail("agent: --log-level: %v", err)
	}
	cfg := agent.Config{Dir: stateDir, Log: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	var st *agent.State
	var err error
	switch verb {
	case "leave":
		if err := agent.Leave(ctx, cfg); err != nil {
			return e.fail("agent leave: %v", err)
		}
		fmt.Fprintln(e.stdout, "left the network; the interface and the state are removed")
		return 0
	case "up":
		st, err = agent.LoadState(stateDir)
	case "join":
		if access != "" {
			if err := o.FromAccessString(access); err != nil {
				return e.fail("agent join: %v", err)
			}
		}
		if o.Mode, err = wg.ParseMode(mode); err != nil {
			return e.fail("agent join: %v", err)
		}
		st, err = agent.Join(ctx, cfg, o)
	}
	if err != nil {
		return e.fail("agent %s: %v", verb, err)
	}
	cfg.Log.Info("netkeep agent running", "network", st.Network, "node", st.MACAddress, "interface", st.Interface,
		"server", st.Server, "version", version)
	if err := agent.New(cfg, st).Run(ctx); err != nil {
		return e.fail("agent: %v", err)
	}
	cfg.Log.Info("agent stopped; interface removed")
	return 0
}

// parseAgentFlags parses args, then fills each flag not given from
// NETKEEP_<FLAG> (dashes as underscores), as the other commands do: a
// variable set to "" means empty.
func parseAgentFlags(fs *flag.FlagSet, args []string, lookup config.LookupEnv) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "NETKEEP_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, set := lookup(name); set && !given[f.Name] && err == nil {
			if serr := f.Value.Set(v); serr != nil {
				err = fmt.Errorf("%s: %v", name, serr)
			}
		}
	})
	return err
}
