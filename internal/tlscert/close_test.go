package tlscert

import (
	"context"
	"errors"
	"testing"
	"time"

	"netkeep/internal/event"
)

// listStore is a Store whose reads list no certificate, or fail with err.
type listStore struct {
	Store
	err error
}

func (s listStore) Read() Tx { return listTx{err: s.err} }

type listTx struct {
	Tx
	err error
}

func (t listTx) ListTLSCertificates(context.Context) ([]*Certificate, error) { return nil, t.err }

// runEnds reports whether Run returns on its own (its context never ends)
// within a minute: it returns only when its subscription is gone.
func runEnds(s *Service) bool {
	done := make(chan struct{})
	go func() {
		s.Run(context.Background())
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(time.Minute):
		return false
	}
}

// Close ends the subscription Start opened, so Run (even one started
// after it) returns; a second Close is harmless. A Start that fails holds
// no subscription either.
func TestCloseEndsSubscription(t *testing.T) {
	t.Parallel()
	bus := event.NewLocal()
	t.Cleanup(func() { _ = bus.Close() })

	s := NewService(listStore{}, nil, nil, bus, nil)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	if !runEnds(s) {
		t.Fatal("Run still follows the subscription after Close")
	}

	failed := NewService(listStore{err: errors.New("database is gone")}, nil, nil, bus, nil)
	if err := failed.Start(context.Background()); err == nil {
		t.Fatal("Start succeeded although the store failed")
	}
	if !runEnds(failed) {
		t.Fatal("a failed Start left a subscription that Run follows")
	}
	failed.Close()
}
