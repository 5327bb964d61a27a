package pgbus

import (
	"log/slog"

	"netkeep/internal/event"
)

// Option configures a Bus.
type Option func(*options)

type options struct {
	buffer  int
	channel string
	logger  *slog.Logger
}

// DefaultChannel is the notification channel when WithChannel is not given.
const DefaultChannel = "netkeep_events"

// WithBuffer sets how many undelivered events each subscription holds
// before further events are dropped for it (event.WithBuffer); the default
// is event.DefaultBuffer.
func WithBuffer(n int) Option {
	return func(o *options) { o.buffer = n }
}

// WithChannel sets the notification channel (1 to 63 bytes). Only replicas
// on the same channel see each other's events.
func WithChannel(name string) Option {
	return func(o *options) { o.channel = name }
}

// WithLogger sets where the bus reports listener failures and reconnects.
// The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

func newOptions(opts []Option) options {
	o := options{buffer: event.DefaultBuffer, channel: DefaultChannel}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o
}
