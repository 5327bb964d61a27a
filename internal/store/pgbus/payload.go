package pgbus

import (
	"encoding/json"

	"netkeep/internal/event"
	"netkeep/internal/fault"
)

// maxPayload is the largest NOTIFY payload PostgreSQL accepts: payloads must be
// shorter than 8000 bytes (NOTIFY_PAYLOAD_MAX_LENGTH).
const maxPayload = 7999

// encodePayload returns e as a NOTIFY payload. When the JSON does not fit, Data
// is left out and subscribers on other replicas fetch the details from the
// store; an event too large even without Data is rejected as TooLarge.
func encodePayload(e event.Event) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fault.New(fault.Invalid, "encoding event").Wrap(err)
	}
	if len(b) <= maxPayload {
		return b, nil
	}
	e.Data = nil
	b, err = json.Marshal(e)
	if err != nil {
		return nil, fault.New(fault.Invalid, "encoding event").Wrap(err)
	}
	if len(b) > maxPayload {
		return nil, fault.Errorf(fault.TooLarge,
			"event is %d bytes without its data; the limit is %d", len(b), maxPayload)
	}
	return b, nil
}

// decodePayload parses a payload published by another replica.
func decodePayload(payload string) (event.Event, error) {
	var e event.Event
	if err := json.Unmarshal([]byte(payload), &e); err != nil {
		return event.Event{}, fault.New(fault.Invalid, "decoding event notification").Wrap(err)
	}
	resync := e.Topic == event.TopicBus && e.Action == event.ActionResync // another replica's Resync
	if e.Topic == "" || (e.Topic == event.TopicBus && !resync) || e.Origin == "" {
		return event.Event{}, fault.Errorf(fault.Invalid, "event notification has topic %q and origin %q", e.Topic, e.Origin)
	}
	return e, nil
}
