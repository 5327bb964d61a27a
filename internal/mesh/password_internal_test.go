package mesh

import (
	"context"
	"errors"
	"testing"
	"time"

	"netkeep/internal/identity"
)

// TestArgon2idConcurrencyBound: once every argon2id slot is taken, another
// hash waits (and gives up with its context) instead of adding its memory;
// keyed hashes do not wait.
func TestArgon2idConcurrencyBound(t *testing.T) {
	np := newNodePasswords(identity.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}, []byte("0123456789abcdef0123456789abcdef"))
	for range cap(np.slots) {
		if err := np.acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := np.hash(ctx, "short-pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("argon2id hash with every slot taken: %v", err)
	}
	if _, _, err := np.check(ctx, "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", "short-pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("argon2id check with every slot taken: %v", err)
	}
	h, err := np.hash(context.Background(), "K7QJ3XW2ZL5TPR6VNB4HMC2DFA")
	if err != nil {
		t.Fatalf("keyed hash with every slot taken: %v", err)
	}
	np.release()
	if ok, _, err := np.check(context.Background(), h, "K7QJ3XW2ZL5TPR6VNB4HMC2DFA"); !ok || err != nil {
		t.Fatalf("keyed check: %v %v", ok, err)
	}
	done := make(chan error, 1)
	go func() { _, err := np.hash(context.Background(), "short-pw"); done <- err }()
	if err := <-done; err != nil {
		t.Fatalf("argon2id hash once a slot is free: %v", err)
	}
}
