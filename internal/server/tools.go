package server

import (
	"context"
	"os/exec"

	"netkeep/internal/procrun"
	"netkeep/internal/remote"
)

// toolRunner runs network tools as child processes of this host, found on
// the server's PATH, in the working directory "/".
type toolRunner struct{}

func (toolRunner) Find(program string) (string, error) { return exec.LookPath(program) }

func (toolRunner) Run(ctx context.Context, r remote.ProgramRun) (*remote.ProgramResult, error) {
	res, err := procrun.Run(ctx, procrun.Request{Path: r.Path, Args: r.Args, Dir: "/", Env: r.Env, Timeout: r.Timeout, MaxOutput: r.MaxOutput})
	if err != nil {
		return nil, err
	}
	return &remote.ProgramResult{ExitCode: res.ExitCode, Output: res.Output, Truncated: res.Truncated, TimedOut: res.TimedOut,
		Duration: res.Duration}, nil
}
