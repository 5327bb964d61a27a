package remote

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"netkeep/internal/fault"
)

// Tool is one diagnostic tool as administrators' clients list it: its name,
// what it does, the request fields it reads besides the target (Options)
// and those it cannot run without (Required).
type Tool struct {
	Name        string
	Description string
	Options     []string
	Required    []string
	// programs are the host programs that can run it, in order of
	// preference (traceroute falls back to tracepath).
	programs []string
}

// tools is the fixed list, in the order clients show it.
var tools = []Tool{
	{Name: "ping", Description: "Test ICMP connectivity to a host", Options: []string{"count"}, programs: []string{"ping"}},
	{Name: "nslookup", Description: "Perform DNS lookup for a hostname", Options: []string{}, programs: []string{"nslookup"}},
	{Name: "traceroute", Description: "Trace the route to a host", Options: []string{},
		programs: []string{"traceroute", "tracepath"}},
	{Name: "nc", Description: "Test TCP connectivity to a port", Options: []string{"port"}, Required: []string{"port"},
		programs: []string{"nc"}},
	{Name: "nmap", Description: "Scan ports on a host", Options: []string{"ports"}, programs: []string{"nmap"}},
}

// aliases are the other names GateKey's clients accept for a tool.
var aliases = map[string]string{"tracert": "traceroute", "netcat": "nc"}

// Tools returns the fixed list of tools.
func Tools() []Tool {
	return slices.Clone(tools)
}

// Limits of a request's arguments.
const (
	DefaultCount = 4  // ping's packets when the request names none
	MaxCount     = 10 // ping's packets at most
	// MaxScanPorts is how many ports one nmap run may probe.
	MaxScanPorts = 1024
	// DefaultScanPorts is what nmap probes when the request names no ports.
	DefaultScanPorts = "22,80,443"
	// MaxScanAddresses is how many addresses a scanned prefix may hold.
	MaxScanAddresses = 256
)

// Request is a tool run as an administrator asks for it.
type Request struct {
	Tool   string
	Target string // a host name or an address; nmap also takes a prefix
	Port   int    // nc: the port to connect to (1-65535)
	Ports  string // nmap: "22,80,443", "1-1024" or both mixed
	Count  int    // ping: packets, 1-MaxCount (0: DefaultCount)
}

// Invocation is one program with its arguments, each one word.
type Invocation struct {
	Program string
	Args    []string
}

// Command is a validated request: what to run, with alternatives in order
// of preference, and how long it may take.
type Command struct {
	Tool    string
	Target  string
	Runs    []Invocation
	Timeout time.Duration
}

func invalid(field, msg string) error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": field})
}

// Command validates r and builds what runs it.
// Errors: invalid (details {"field"}).
func (r Request) Command() (Command, error) {
	name := r.Tool
	if a, ok := aliases[name]; ok {
		name = a
	}
	i := slices.IndexFunc(tools, func(t Tool) bool { return t.Name == name })
	if i < 0 {
		names := make([]string, len(tools))
		for j, t := range tools {
			names[j] = t.Name
		}
		return Command{}, invalid("tool", "unknown tool "+strconv.Quote(r.Tool)+" (one of "+strings.Join(names, ", ")+")")
	}
	t := tools[i]
	target, err := checkTarget(r.Target, name == "nmap")
	if err != nil {
		return Command{}, err
	}
	c := Command{Tool: name, Target: target}
	switch name {
	case "ping":
		count := r.Count
		if count == 0 {
			count = DefaultCount
		}
		if count < 1 || count > MaxCount {
			return Command{}, invalid("count", "count must be between 1 and "+strconv.Itoa(MaxCount))
		}
		n := strconv.Itoa(count)
		// -w bounds the whole run; the timeout is the backstop.
		c.Runs = []Invocation{{"ping", []string{"-n", "-c", n, "-w", strconv.Itoa(count + 3), target}}}
		c.Timeout = time.Duration(count+10) * time.Second
	case "nslookup":
		c.Runs = []Invocation{{"nslookup", []string{target}}}
		c.Timeout = 15 * time.Second
	case "traceroute":
		c.Runs = []Invocation{
			{"traceroute", []string{"-n", "-m", "20", "-w", "2", "-q", "1", target}},
			{"tracepath", []string{"-n", "-m", "20", target}},
		}
		c.Timeout = 60 * time.Second
	case "nc":
		if r.Port < 1 || r.Port > 65535 {
			return Command{}, invalid("port", "nc needs a port between 1 and 65535")
		}
		c.Target = target + ":" + strconv.Itoa(r.Port)
		c.Runs = []Invocation{{"nc", []string{"-z", "-v", "-w", "5", target, strconv.Itoa(r.Port)}}}
		c.Timeout = 10 * time.Second
	case "nmap":
		ports, err := checkPorts(r.Ports)
		if err != nil {
			return Command{}, err
		}
		// A TCP connect scan needs no privilege; -Pn and -n keep it to
		// the ports asked for, without ping sweeps or name lookups.
		c.Runs = []Invocation{{"nmap", []string{"-sT", "-Pn", "-n", "--max-retries", "2", "--host-timeout", "50s",
			"-p", ports, target}}}
		c.Timeout = 60 * time.Second
	}
	if len(c.Runs) != len(t.programs) {
		panic("remote: tool " + name + " runs programs its entry does not list")
	}
	return c, nil
}
