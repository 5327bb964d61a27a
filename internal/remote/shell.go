package remote

import (
	"strconv"
	"strings"
)

// Shell renders c for an agent that runs its command with /bin/sh -c, as
// GateKey's agents do: the first of c's programs installed on the host
// runs under timeout(1), which ends the tool's whole process group after
// c.Timeout (and kills it two seconds later if it lingers). Each argument
// is quoted, though validation has already left none a shell would read.
// A host with none of the programs (or without timeout) exits 127 with a
// message on stderr.
func (c Command) Shell() string {
	secs := strconv.Itoa(int(c.Timeout.Seconds()))
	var b strings.Builder
	programs := make([]string, 0, len(c.Runs))
	for _, r := range c.Runs {
		programs = append(programs, r.Program)
		b.WriteString("if command -v " + r.Program + " >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then ")
		b.WriteString("exec timeout -k 2 " + secs + " " + r.Program)
		for _, a := range r.Args {
			b.WriteString(" " + ShellQuote(a))
		}
		b.WriteString("; fi; ")
	}
	b.WriteString("echo " + ShellQuote(strings.Join(programs, " or ")+" (with timeout) is not installed on this host") +
		" >&2; exit " + strconv.Itoa(exitNotFound))
	return b.String()
}

// exitNotFound is the shell's exit status for a program it cannot find.
const exitNotFound = 127

// ShellQuote quotes s as one word for a POSIX shell.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
