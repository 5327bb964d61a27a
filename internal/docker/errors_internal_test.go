package docker

import (
	"context"
	"errors"
	"fmt"
	"testing"

	cerrdefs "github.com/containerd/errdefs"

	"netkeep/internal/container"
	"netkeep/internal/fault"
)

// One classification serves the runtime's calls and the toolbox's: the
// engine's own classes decide the code, whoever asked.
func TestEngineError(t *testing.T) {
	engine := func(class error, msg string) error {
		return engineAnswer{msg: "Error response from daemon: " + msg, class: class}
	}
	own := fault.New(fault.Invalid, "already a fault")
	tests := []struct {
		name, doing, id string
		err             error
		code            fault.Code
		reason          fault.Reason
		message         string
	}{
		{"404/container of a runtime call", "", "web", engine(cerrdefs.ErrNotFound, "No such container: web"),
			fault.NotFound, container.ReasonNotFound, "container not found"},
		{"404/container of an export", "inspecting container web", "web", engine(cerrdefs.ErrNotFound, "No such container: web"),
			fault.NotFound, container.ReasonNotFound, "container not found"},
		{"404/another object", "removing network web_default", "", engine(cerrdefs.ErrNotFound, "network web_default not found"),
			fault.NotFound, "", "removing network web_default: not found on the Docker engine"},
		{"409/conflict of a runtime call", "", "web", engine(cerrdefs.ErrConflict, "container is paused"),
			fault.Conflict, "", "the Docker engine refused: container is paused"},
		{"409/conflict of a deployment", "creating container web", "", engine(cerrdefs.ErrConflict, `name "/web" is already in use`),
			fault.Conflict, "", `creating container web: the Docker engine refused: name "/web" is already in use`},
		{"400/invalid of a deployment", "creating container web", "", engine(cerrdefs.ErrInvalidArgument, "invalid port"),
			fault.Invalid, "", "creating container web: the Docker engine refused: invalid port"},
		{"400/invalid of a runtime call", "", "web", engine(cerrdefs.ErrInvalidArgument, "invalid signal"),
			fault.Invalid, "", "the Docker engine refused: invalid signal"},
		{"409/any other refusal", "", "web", engine(cerrdefs.ErrInternal, "OCI runtime create failed"),
			fault.Conflict, "", "the Docker engine refused: OCI runtime create failed"},
		{"503/no answer in time", "creating volume data", "", fmt.Errorf("waiting: %w", context.DeadlineExceeded),
			fault.Unavailable, container.ReasonNoRuntime, "the Docker engine did not answer in time"},
		{"fault/kept", "", "web", own, fault.Invalid, "", "already a fault"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := fault.As(engineError(tt.err, tt.doing, tt.id))
			if fe == nil || fe.Code != tt.code || fe.Reason != tt.reason || fe.Message != tt.message {
				t.Fatalf("got %+v, want %s %q %q", fe, tt.code, tt.reason, tt.message)
			}
			if tt.err != own && !errors.Is(fe, tt.err) {
				t.Errorf("the cause is lost: %v", fe)
			}
		})
	}
	if err := engineError(nil, "x", "y"); err != nil {
		t.Errorf("nil: %v", err)
	}
	if err := engineError(context.Canceled, "", "web"); !errors.Is(err, context.Canceled) || fault.As(err) != nil {
		t.Errorf("cancelled: %v", err)
	}
}

// engineAnswer is an error as the Moby client returns the engine's: the
// engine's message, classed by its HTTP status.
type engineAnswer struct {
	msg   string
	class error
}

func (e engineAnswer) Error() string { return e.msg }
func (e engineAnswer) Unwrap() error { return e.class }
