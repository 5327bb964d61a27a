package server

import (
	"context"

	"netkeep/internal/automation"
	"netkeep/internal/procrun"
)

// scriptRunner runs scripts as child processes of this host.
type scriptRunner struct{}

func (scriptRunner) Run(ctx context.Context, r automation.RunRequest) (*automation.RunResult, error) {
	res, err := procrun.Run(ctx, procrun.Request{Path: r.Path, Dir: r.Dir, Env: r.Env, Timeout: r.Timeout, MaxOutput: r.MaxOutput, Output: r.Output})
	if err != nil {
		return nil, err
	}
	return &automation.RunResult{ExitCode: res.ExitCode, Output: res.Output, Truncated: res.Truncated, TimedOut: res.TimedOut}, nil
}
