package event

// Option configures a Local bus (and, through NewRelay, the local half of a
// bus shared between replicas).
type Option func(*options)

type options struct {
	buffer int
}

// DefaultBuffer is the per-subscription buffer when WithBuffer is not given.
const DefaultBuffer = 256

// WithBuffer sets how many undelivered events each subscription holds before
// further events are dropped for it. Values below 1 mean 1.
func WithBuffer(n int) Option {
	return func(o *options) { o.buffer = max(n, 1) }
}

func newOptions(opts []Option) options {
	o := options{buffer: DefaultBuffer}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
