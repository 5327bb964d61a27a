package event

import "log/slog"

// Option configures a Local or Postgres bus.
type Option func(*options)

type options struct {
	buffer  int
	channel string
	logger  *slog.Logger
}

// DefaultBuffer is the per-subscription buffer when WithBuffer is not given.
const DefaultBuffer = 256

// DefaultChannel is the PostgreSQL notification channel when WithChannel is not given.
const DefaultChannel = "netkeep_events"

// WithBuffer sets how many undelivered events each subscription holds before
// further events are dropped for it. Values below 1 mean 1.
func WithBuffer(n int) Option {
	return func(o *options) { o.buffer = max(n, 1) }
}

// WithChannel sets the PostgreSQL notification channel (1 to 63 bytes). Only
// replicas on the same channel see each other's events; Local ignores it.
func WithChannel(name string) Option {
	return func(o *options) { o.channel = name }
}

// WithLogger sets where the bus reports listener failures and reconnects.
// The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

func newOptions(opts []Option) options {
	o := options{buffer: DefaultBuffer, channel: DefaultChannel}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o
}
