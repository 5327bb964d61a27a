// Package remote is what administrators run on hosts from netkeep:
// network diagnostic tools (a fixed list: ping, nslookup, traceroute, nc,
// nmap) on the server itself or on a gateway through its agent, and remote
// sessions, where an administrator's commands go to a gateway's agent.
//
// A tool run is a remote command, so it is built as one: only an
// administrator (authz.Administer) may run it; the tool is one of a fixed
// list and every argument is validated (a host name, an address or, for
// nmap, a small prefix; ports and counts within ranges), then passed as
// separate words, never through a shell on the server; each run has a
// timeout after which its whole process group is killed, its output is
// capped, the runs in progress are limited, and every run is audited (who,
// tool, target, where) before it starts. A gateway is reached only within
// the caller's group: another group's gateway is not found.
//
// remote imports audit, authz, fault and gateway (to find the gateway a
// location names); it knows no HTTP, no SQL and no process: the server
// hands it a Runner for this host's programs, and the transport that holds
// the agents' channels implements Agents.
package remote
