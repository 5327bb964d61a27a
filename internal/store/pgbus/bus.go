package pgbus

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"netkeep/internal/event"
	"netkeep/internal/fault"
)

// Bus is an event.Bus shared by every replica connected to one PostgreSQL
// database. It is safe for concurrent use.
//
// Publish delivers to this process's subscribers at once, then sends the event
// with pg_notify on the bus's channel over a dedicated publishing connection,
// so events from one replica reach the others in the order they were
// published. A dedicated listening connection delivers events from other
// replicas; its own are skipped because they were already delivered. When the
// listener loses its connection it reconnects with backoff and then delivers a
// event.TopicBus/event.ActionResync event to every local subscription, because
// notifications sent while it was away are lost.
type Bus struct {
	local   *event.Local
	deliver func(event.Event) error // offers an event to local without stamping it
	channel string
	config  *pgx.ConnConfig
	log     *slog.Logger

	life context.Context // cancelled by Close; bounds every connection use
	stop context.CancelFunc
	done chan struct{} // closed when the listener goroutine has returned

	pubMu sync.Mutex
	pub   *pgx.Conn // nil until (re)connected; guarded by pubMu

	listenerPID atomic.Uint32 // backend PID of the listening connection, for tests
	closeOnce   sync.Once
	closeErr    error
}

var _ event.Bus = (*Bus)(nil)

// connectTimeout bounds each connection attempt made after New.
const connectTimeout = 10 * time.Second

// New connects the listening and publishing connections and starts
// listening before it returns, so events published by other replicas after
// that are delivered. ctx bounds only the initial connections.
//
// It returns an Invalid fault for a bad connString or channel name and an
// Unavailable fault when PostgreSQL cannot be reached.
func New(ctx context.Context, connString string, opts ...Option) (*Bus, error) {
	o := newOptions(opts)
	if n := len(o.channel); n == 0 || n > 63 {
		return nil, fault.Errorf(fault.Invalid, "event channel name must be 1 to 63 bytes, got %d", n)
	}
	config, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, fault.New(fault.Invalid, "parsing PostgreSQL connection string").Wrap(err)
	}
	local, deliver := event.NewRelay(event.WithBuffer(o.buffer))
	p := &Bus{
		local:   local,
		deliver: deliver,
		channel: o.channel,
		config:  config,
		log:     o.logger.With("component", "event", "channel", o.channel),
		done:    make(chan struct{}),
	}
	p.life, p.stop = context.WithCancel(context.Background())

	listener, err := p.connectListener(ctx)
	if err != nil {
		p.stop()
		return nil, err
	}
	pub, err := p.connect(ctx)
	if err != nil {
		closeConn(listener)
		p.stop()
		return nil, err
	}
	p.pub = pub
	go p.listen(listener)
	return p, nil
}

// Origin is the id this replica stamps on the events it publishes.
func (p *Bus) Origin() string { return p.local.Origin() }

// Subscribe returns a subscription to topics (all when none), fed by this
// replica's and other replicas' events.
func (p *Bus) Subscribe(topics ...string) *event.Subscription {
	return p.local.Subscribe(topics...)
}

// Publish delivers e to local subscribers, then notifies the other replicas;
// ctx bounds the notification. Local subscribers receive Data in full; other
// replicas receive it only if the encoded event fits a NOTIFY payload.
//
// An error other than Invalid or TooLarge means local subscribers were served
// but other replicas may not have been. A publish interrupted by a broken
// connection is retried once on a new one, so other replicas may, rarely, see
// an event twice: events are hints, and handling one twice must be harmless.
func (p *Bus) Publish(ctx context.Context, e event.Event) error {
	e, err := event.Stamp(e, p.local.Origin())
	if err != nil {
		return err
	}
	payload, err := encodePayload(e)
	if err != nil {
		return err
	}
	if err := p.deliver(e); err != nil {
		return err
	}
	return p.notify(ctx, string(payload))
}

// Resync delivers the bus's resync event to local subscribers and asks
// every other replica to deliver it to theirs.
func (p *Bus) Resync(ctx context.Context) error {
	e := event.ResyncEvent(p.local.Origin())
	if err := p.deliver(e); err != nil {
		return err
	}
	payload, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return p.notify(ctx, string(payload))
}

const notifyFailed = "notifying other replicas of an event"

func (p *Bus) notify(ctx context.Context, payload string) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer context.AfterFunc(p.life, func() { cancel(event.ErrClosed) })()

	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	for attempt := 1; ; attempt++ {
		if p.life.Err() != nil {
			return event.ErrClosed
		}
		if p.pub == nil {
			conn, err := p.connect(ctx)
			if err != nil {
				return unavailable(ctx, notifyFailed, err)
			}
			p.pub = conn
		}
		_, err := p.pub.Exec(ctx, "SELECT pg_notify($1, $2)", p.channel, payload)
		if err == nil {
			return nil
		}
		if !p.pub.IsClosed() {
			return unavailable(ctx, notifyFailed, err) // a server error; the connection is fine
		}
		closeConn(p.pub)
		p.pub = nil
		if attempt == 2 || ctx.Err() != nil {
			return unavailable(ctx, notifyFailed, err)
		}
	}
}

// unavailable classifies a failure to use PostgreSQL: event.ErrClosed when Close
// interrupted it, an Unavailable fault otherwise.
func unavailable(ctx context.Context, msg string, err error) error {
	if errors.Is(context.Cause(ctx), event.ErrClosed) {
		return event.ErrClosed
	}
	return fault.New(fault.Unavailable, msg).Wrap(err)
}

// Close stops the listener, closes every subscription and both connections.
// It is idempotent; later Publish calls return event.ErrClosed.
func (p *Bus) Close() error {
	p.closeOnce.Do(func() {
		_ = p.local.Close()
		p.stop()
		<-p.done
		p.pubMu.Lock()
		defer p.pubMu.Unlock()
		if p.pub != nil {
			p.closeErr = closeConn(p.pub)
			p.pub = nil
		}
	})
	return p.closeErr
}

// connect opens one connection; ctx bounds the attempt.
func (p *Bus) connect(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, p.config.Copy())
	if err != nil {
		return nil, fault.New(fault.Unavailable, "connecting to PostgreSQL for events").Wrap(err)
	}
	return conn, nil
}

// closeConn closes conn politely but without waiting long for a server that
// may be gone.
func closeConn(conn *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return conn.Close(ctx)
}
