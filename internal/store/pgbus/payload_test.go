package pgbus

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"netkeep/internal/event"
	"netkeep/internal/fault"
)

// eventOfSize returns a stamped event whose encoding is exactly size bytes,
// padding Data (a JSON string) or, when Data cannot be small enough, the ID.
func eventOfSize(tb testing.TB, origin string, size int) event.Event {
	tb.Helper()
	e := event.Event{
		Topic:   "psk",
		Action:  "updated",
		GroupID: 7,
		ID:      "42",
		Data:    json.RawMessage(`""`),
		Origin:  origin,
		Time:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	b, err := json.Marshal(e)
	if err != nil {
		tb.Fatal(err)
	}
	pad := size - len(b)
	if pad < 0 {
		tb.Fatalf("size %d is below the minimum %d", size, len(b))
	}
	e.Data = json.RawMessage(`"` + strings.Repeat("x", pad) + `"`)
	if b, _ := json.Marshal(e); len(b) != size {
		tb.Fatalf("built a %d-byte event, want %d", len(b), size)
	}
	return e
}

func TestEncodePayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		event    func(tb testing.TB) event.Event
		wantData bool
		wantCode fault.Code
	}{
		{"kept/small", func(tb testing.TB) event.Event { return eventOfSize(tb, "o", 200) }, true, ""},
		{"kept/at limit", func(tb testing.TB) event.Event { return eventOfSize(tb, "o", maxPayload) }, true, ""},
		{"stripped/one over", func(tb testing.TB) event.Event { return eventOfSize(tb, "o", maxPayload+1) }, false, ""},
		{"stripped/large", func(tb testing.TB) event.Event { return eventOfSize(tb, "o", 100_000) }, false, ""},
		{"rejected/too large without data", func(testing.TB) event.Event {
			return event.Event{Topic: "psk", ID: strings.Repeat("i", maxPayload), Origin: "o"}
		}, false, fault.TooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := tt.event(t)
			payload, err := encodePayload(in)
			if tt.wantCode != "" {
				if !fault.Is(err, tt.wantCode) {
					t.Fatalf("err = %v, want code %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("encodePayload: %v", err)
			}
			if len(payload) > maxPayload {
				t.Fatalf("payload is %d bytes, limit %d", len(payload), maxPayload)
			}
			out, err := decodePayload(string(payload))
			if err != nil {
				t.Fatalf("decodePayload: %v", err)
			}
			if got := len(out.Data) > 0; got != tt.wantData {
				t.Errorf("Data present = %v, want %v", got, tt.wantData)
			}
			out.Data, in.Data = nil, nil
			if !equalEvents(out, in) {
				t.Errorf("round trip changed the event:\n got %+v\nwant %+v", out, in)
			}
		})
	}
}

func TestDecodePayloadRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, payload string }{
		{"not json", `{topic`},
		{"no topic", `{"action":"updated","origin":"o"}`},
		{"no origin", `{"topic":"psk"}`},
		// The bus's topic crosses replicas only as a Resync.
		{"bus topic, other action", `{"topic":"bus","action":"restart","origin":"o"}`},
		{"resync without origin", `{"topic":"bus","action":"resync"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := decodePayload(tt.payload); !fault.Is(err, fault.Invalid) {
				t.Errorf("err = %v, want code %s", err, fault.Invalid)
			}
		})
	}
}

func equalEvents(a, b event.Event) bool {
	return a.Topic == b.Topic && a.Action == b.Action && a.GroupID == b.GroupID &&
		a.ID == b.ID && string(a.Data) == string(b.Data) && a.Origin == b.Origin && a.Time.Equal(b.Time)
}
