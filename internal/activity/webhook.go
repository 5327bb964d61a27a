package activity

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"netkeep/internal/audit"
	"netkeep/internal/authz"
	"netkeep/internal/event"
	"netkeep/internal/fault"
)

// TopicWebhook is the event topic of webhook pushes; its Data is a Push.
// The live stream sends the payload as a "webhook" message.
const TopicWebhook = "webhook"

// Push is the Data of a TopicWebhook event: the payload to send, and the
// devices of the event's group to send it to (every socket of the group
// when empty).
type Push struct {
	DeviceIDs []string        `json:"deviceIds"`
	Payload   json.RawMessage `json:"payload"`
}

// writeAction is what posting to a webhook requires: the caller changes
// what the group's devices are shown.
const writeAction authz.Action = "devices:write"

// Limits of webhook input. A push must fit one PostgreSQL NOTIFY (8000
// bytes) so that it reaches the sockets of every replica.
const (
	maxMessage   = 500
	maxDetails   = 2000
	maxShort     = 64
	maxDevices   = 100
	maxPushBytes = 6000
)

// WebhookActivity is a feed entry an external system posts.
type WebhookActivity struct {
	Message   string
	Icon      string // default "Bell"
	IconClass string
	Details   string
	DeviceIDs []string
}

// webhookDetails is how a webhook's entry is kept in the audit log.
type webhookDetails struct {
	EventID   string   `json:"eventId"`
	Message   string   `json:"message"`
	Icon      string   `json:"icon"`
	IconClass string   `json:"iconClass"`
	Details   string   `json:"details,omitempty"`
	DeviceIDs []string `json:"deviceIds,omitempty"`
}

// RecordWebhook adds a to the feed of p's group, recorded with its audit
// entry, and pushes it to the group's listed devices (all when none are
// listed) as a webhook message. Errors: unauthorized, forbidden (p may not
// write devices), invalid, too_large.
func (s *Service) RecordWebhook(ctx context.Context, p *authz.Principal, src audit.Source, a WebhookActivity) (*Item, error) {
	if err := authz.Allow(p, writeAction, authz.Any); err != nil {
		return nil, err
	}
	if a.Icon == "" {
		a.Icon = "Bell"
	}
	switch {
	case strings.TrimSpace(a.Message) == "":
		return nil, invalid("message", "message is required")
	case utf8.RuneCountInString(a.Message) > maxMessage:
		return nil, invalid("message", "message is longer than 500 characters")
	case utf8.RuneCountInString(a.Details) > maxDetails:
		return nil, invalid("details", "details are longer than 2000 characters")
	case len(a.Icon) > maxShort || len(a.IconClass) > maxShort:
		return nil, invalid("icon", "icon and iconClass are at most 64 characters")
	}
	if err := checkDevices(a.DeviceIDs); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	d := webhookDetails{EventID: s.eventID(now.UnixMicro()), Message: a.Message, Icon: a.Icon, IconClass: a.IconClass,
		Details: a.Details, DeviceIDs: a.DeviceIDs}
	it := Item{ID: d.EventID, Type: ActionWebhook, Icon: d.Icon, IconClass: d.IconClass, Message: d.Message,
		Details: d.Details, Time: now}
	payload, err := json.Marshal(it)
	if err != nil {
		return nil, err
	}
	push, err := encodePush(a.DeviceIDs, payload)
	if err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		e, err := audit.NewEntry(src, p.GroupID, ActionWebhook, "activity:"+d.EventID, d)
		if err != nil {
			return err
		}
		e.Time = now
		return tx.InsertAudit(ctx, e)
	})
	if err != nil {
		return nil, err
	}
	// The entry is committed: a failed push is not the caller's failure,
	// the feed has it and clients that missed the push see it there.
	_ = s.publish(ctx, p.GroupID, "activity", d.EventID, push)
	return &it, nil
}

// Notification is an arbitrary message an external system pushes to the
// devices of its group: Nekzus sends the whole body as the webhook
// message's data.
type Notification struct {
	Type      string
	Data      json.RawMessage // a JSON object, or empty
	DeviceIDs []string
}

// Notify pushes n to the listed devices of p's group (every socket of the
// group when none are listed), on every replica. It changes no state, so
// nothing is recorded. Errors: unauthorized, forbidden, invalid,
// too_large, unavailable (the other replicas could not be told).
func (s *Service) Notify(ctx context.Context, p *authz.Principal, n Notification) error {
	if err := authz.Allow(p, writeAction, authz.Any); err != nil {
		return err
	}
	if len(n.Type) > maxShort {
		return invalid("type", "type is at most 64 characters")
	}
	if err := checkDevices(n.DeviceIDs); err != nil {
		return err
	}
	if len(n.Data) > 0 && n.Data[0] != '{' {
		return invalid("data", "data must be a JSON object")
	}
	payload, err := json.Marshal(struct {
		DeviceIDs []string        `json:"deviceIds"`
		Type      string          `json:"type,omitempty"`
		Data      json.RawMessage `json:"data,omitempty"`
	}{nonNil(n.DeviceIDs), n.Type, n.Data})
	if err != nil {
		return invalid("data", "data must be a JSON object")
	}
	push, err := encodePush(n.DeviceIDs, payload)
	if err != nil {
		return err
	}
	return s.publish(ctx, p.GroupID, "notify", "", push)
}

func (s *Service) publish(ctx context.Context, gid int64, action, id string, push []byte) error {
	if s.bus == nil {
		return nil
	}
	if err := s.bus.Publish(ctx, event.Event{Topic: TopicWebhook, Action: action, GroupID: gid, ID: id, Data: push}); err != nil {
		return fault.New(fault.Unavailable, "the notification could not be delivered; retry").Wrap(err)
	}
	return nil
}

// encodePush is a Push as event data, refused when it would not fit a
// NOTIFY to the other replicas.
func encodePush(devices []string, payload []byte) ([]byte, error) {
	b, err := json.Marshal(Push{DeviceIDs: nonNil(devices), Payload: payload})
	if err != nil {
		return nil, err
	}
	if len(b) > maxPushBytes {
		return nil, fault.Errorf(fault.TooLarge, "the notification is %d bytes; at most %d fit", len(b), maxPushBytes)
	}
	return b, nil
}

func checkDevices(ids []string) error {
	if len(ids) > maxDevices {
		return invalid("deviceIds", "at most 100 deviceIds")
	}
	for _, id := range ids {
		if id == "" || len(id) > 128 {
			return invalid("deviceIds", "deviceIds must be non-empty and at most 128 characters")
		}
	}
	return nil
}

// eventID is Nekzus's "webhook-<microseconds>", kept increasing so that two
// webhooks of one replica in the same microsecond get different ids.
func (s *Service) eventID(micros int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if micros <= s.last {
		micros = s.last + 1
	}
	s.last = micros
	return "webhook-" + strconv.FormatInt(micros, 10)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func invalid(field, msg string) error {
	return fault.New(fault.Invalid, msg).WithDetails(map[string]any{"field": field})
}
