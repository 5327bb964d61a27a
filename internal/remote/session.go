package remote

import (
	"context"
	"strings"
	"unicode/utf8"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/fault"
	"netkeep/internal/gateway"
)

// MaxSessionCommand is the longest command a remote session passes on.
const MaxSessionCommand = 8 << 10

// MaySession checks that p may hold a remote session at all (an
// administrator), before any gateway is named. Errors: unauthorized,
// forbidden.
func (s *Service) MaySession(p *authz.Principal) error {
	return authz.Allow(p, authz.Administer, authz.Any)
}

// OpenSession checks that p may run commands on gatewayID's host and
// records that a session reaches it ("remote-session.open").
// Errors: unauthorized, forbidden, not_found (also another group's).
func (s *Service) OpenSession(ctx context.Context, p *authz.Principal, src audit.Source, gatewayID string) (*gateway.Gateway, error) {
	if err := s.MaySession(p); err != nil {
		return nil, err
	}
	gw, err := s.gateways.AdminGateway(ctx, p, gatewayID)
	if err != nil {
		return nil, err
	}
	if err := s.store.InTx(ctx, func(tx Tx) error {
		return audit.Record(ctx, tx, src, gw.GroupID, "remote-session.open", "gateway:"+gw.ID, map[string]any{"gateway": gw.Name})
	}); err != nil {
		return nil, err
	}
	return gw, nil
}

// SessionCommand checks a command of a session opened on gw and records it
// ("remote-session.command", with the command's text: a session's
// commands are what its audit is for) before it is passed on.
// Errors: invalid (empty, not UTF-8, with a NUL, or longer than
// MaxSessionCommand).
func (s *Service) SessionCommand(ctx context.Context, src audit.Source, gw *gateway.Gateway, command string) error {
	switch {
	case strings.TrimSpace(command) == "":
		return fault.New(fault.Invalid, "the command is empty")
	case len(command) > MaxSessionCommand:
		return fault.New(fault.Invalid, "the command is longer than 8 KiB")
	case !utf8.ValidString(command) || strings.ContainsRune(command, 0):
		return fault.New(fault.Invalid, "the command is not text")
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		return audit.Record(ctx, tx, src, gw.GroupID, "remote-session.command", "gateway:"+gw.ID, map[string]any{"command": command})
	})
}
