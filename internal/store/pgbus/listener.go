package pgbus

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"netkeep/internal/event"
)

// Listener timing. idleCheck bounds how long a silently dead connection (a
// network partition with no TCP reset) goes unnoticed.
const (
	idleCheck   = 30 * time.Second
	pingTimeout = 5 * time.Second
	minBackoff  = 100 * time.Millisecond
	maxBackoff  = 10 * time.Second
)

// connectListener opens a connection and LISTENs on the bus's channel.
func (p *Bus) connectListener(ctx context.Context) (*pgx.Conn, error) {
	conn, err := p.connect(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{p.channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, unavailable(ctx, "listening for events", err)
	}
	p.listenerPID.Store(conn.PgConn().PID())
	return conn, nil
}

// listen delivers notifications until Close, reconnecting whenever the
// connection fails. It owns conn.
func (p *Bus) listen(conn *pgx.Conn) {
	defer close(p.done)
	for {
		err := p.receive(conn)
		closeConn(conn)
		if p.life.Err() != nil {
			return
		}
		p.log.Warn("event listener lost its connection; reconnecting", "err", err)
		if conn = p.reconnect(); conn == nil {
			return
		}
		p.log.Info("event listener reconnected; subscribers resynchronise")
		_ = p.deliver(event.Event{
			Topic:  event.TopicBus,
			Action: event.ActionResync,
			Origin: p.local.Origin(),
			Time:   time.Now().UTC(),
		})
	}
}

// receive delivers notifications from conn until it fails or Close.
func (p *Bus) receive(conn *pgx.Conn) error {
	for {
		ctx, cancel := context.WithTimeout(p.life, idleCheck)
		n, err := conn.WaitForNotification(ctx)
		cancel()
		if n != nil {
			p.handle(n)
		}
		switch {
		case err == nil:
		case p.life.Err() != nil:
			return p.life.Err()
		case pgconn.Timeout(err) && !conn.IsClosed():
			if err := p.ping(conn); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

func (p *Bus) ping(conn *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(p.life, pingTimeout)
	defer cancel()
	return conn.Ping(ctx)
}

func (p *Bus) handle(n *pgconn.Notification) {
	if n.Channel != p.channel {
		return
	}
	e, err := decodePayload(n.Payload)
	if err != nil {
		p.log.Warn("ignoring event notification", "err", err)
		return
	}
	if e.Origin == p.local.Origin() {
		return // delivered locally when it was published
	}
	_ = p.deliver(e) // fails only after Close
}

// reconnect retries connectListener with jittered exponential backoff until it
// succeeds or Close; it returns nil after Close.
func (p *Bus) reconnect() *pgx.Conn {
	delay := minBackoff
	for {
		t := time.NewTimer(delay/2 + rand.N(delay/2+1))
		select {
		case <-p.life.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		conn, err := p.connectListener(p.life)
		if err == nil {
			return conn
		}
		if p.life.Err() != nil {
			return nil
		}
		p.log.Warn("event listener reconnect failed", "err", err, "retry_in", delay)
		delay = min(2*delay, maxBackoff)
	}
}
