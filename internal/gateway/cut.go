package gateway

import (
	"context"
	"encoding/json"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
)

var errSessionNotFound = fault.New(fault.NotFound, "session not found")

// CutEvent is the ActionSessionCut event that asks v's gateway to end v,
// giving reason.
func CutEvent(v *Session, reason string) (event.Event, error) {
	data, err := json.Marshal(SessionCut{SessionID: v.ID, CommonName: v.CommonName,
		SerialNumber: v.Serial, ClientIP: v.ClientIP, Reason: reason})
	if err != nil {
		return event.Event{}, err
	}
	return event.Event{Topic: TopicGateway, Action: ActionSessionCut, GroupID: v.GroupID, ID: v.GatewayID, Data: data}, nil
}

// CutSession asks the gateway of the open session id to end it now (an
// administrator's "disconnect"), through the ActionSessionCut event its
// remote-session channel relays. The session stays open in the record
// until the gateway reports the disconnection (its client-disconnect
// hook), which carries the byte counters; the request is audited as
// vpn-session.cut. The client may connect again unless its certificate or
// user is refused meanwhile.
//
// Errors: not_found (no such session, another group's, or already ended),
// forbidden (not an administrator of its group), unavailable (no event bus
// to reach gateways).
func (s *Service) CutSession(ctx context.Context, p *authz.Principal, src audit.Source, id string) (*Session, error) {
	if s.bus == nil {
		return nil, fault.New(fault.Unavailable, "no event bus to reach the gateway")
	}
	var sess *Session
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if sess, err = tx.VPNSession(ctx, id); err != nil {
			return notFoundAs(err, errSessionNotFound)
		}
		if err := allowAdmin(p, actGatewaysWrite, sess.GroupID, errSessionNotFound); err != nil {
			return err
		}
		if !sess.Active() {
			return errSessionNotFound
		}
		return audit.Record(ctx, tx, src, sess.GroupID, "vpn-session.cut", sessionTarget(sess.ID), map[string]any{
			"gateway_id": sess.GatewayID, "user_id": sess.UserID, "common_name": sess.CommonName})
	})
	if err != nil {
		return nil, err
	}
	ev, err := CutEvent(sess, "disconnected by an administrator")
	if err == nil {
		err = s.bus.Publish(ctx, ev)
	}
	if err != nil {
		return nil, fault.New(fault.Unavailable, "the gateway could not be reached").Wrap(err)
	}
	return sess, nil
}
