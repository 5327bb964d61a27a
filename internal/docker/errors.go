package docker

import (
	"context"
	"errors"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"netkeep/internal/container"
	"netkeep/internal/fault"
)

// engineError is the one classification of the engine's errors, for the
// container runtime, the toolbox's deployments and exports alike. doing
// says what netkeep asked ("creating network web_default"; "" for a call
// about container id alone) and id is the container's reference when the
// call was about one:
//
//   - unreachable, or no answer in time → unavailable
//     (container_runtime_unavailable), so callers answer 503 and recover
//     when the engine is back;
//   - an unknown container → not_found (container_not_found, with its
//     id); any other unknown object → not_found saying what was done;
//   - a request the engine calls invalid (a bad option) → invalid;
//   - any other refusal (a name or port in use, a container whose state or
//     command forbids it) → conflict.
//
// A refusal says the engine's reason: it is about the containers, and
// shown only to those who manage them. A fault is returned as it is, and
// so is a cancelled context (the caller went away).
func engineError(err error, doing, id string) error {
	var fe *fault.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe), errors.Is(err, context.Canceled):
		return err
	case client.IsErrConnectionFailed(err):
		return fault.New(fault.Unavailable, "the Docker engine cannot be reached").WithReason(container.ReasonNoRuntime).Wrap(err)
	case errors.Is(err, context.DeadlineExceeded):
		return fault.New(fault.Unavailable, "the Docker engine did not answer in time").WithReason(container.ReasonNoRuntime).Wrap(err)
	case cerrdefs.IsNotFound(err) && id != "":
		return fault.New(fault.NotFound, "container not found").WithReason(container.ReasonNotFound).
			WithDetails(map[string]any{"containerId": id}).Wrap(err)
	case cerrdefs.IsNotFound(err):
		return fault.New(fault.NotFound, doing+": not found on the Docker engine").Wrap(err)
	}
	msg := "the Docker engine refused: " + engineReason(err)
	if doing != "" {
		msg = doing + ": " + msg
	}
	if cerrdefs.IsInvalidArgument(err) {
		return fault.New(fault.Invalid, msg).Wrap(err)
	}
	return fault.New(fault.Conflict, msg).Wrap(err)
}

// engineReason is the engine's message, short.
func engineReason(err error) string {
	msg := strings.TrimPrefix(err.Error(), "Error response from daemon: ")
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}
