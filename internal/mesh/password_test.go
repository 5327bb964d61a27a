package mesh_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"netkeep/internal/audit"
	"netkeep/internal/fault"
	"netkeep/internal/mesh"
	"netkeep/internal/store"
	"netkeep/internal/store/storetest"
)

// machinePassword is what the agent generates (crypto/rand.Text).
const machinePassword = "K7QJ3XW2ZL5TPR6VNB4HMC2DFA"

func storedHash(tb testing.TB, db *store.DB, id int64) string {
	tb.Helper()
	sec, err := store.For[mesh.Tx](db).Read().NodeSecrets(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return sec.PasswordHash
}

// TestNodePasswordStorage: machine secrets get a keyed hash, other passwords
// argon2id; both authenticate, and wrong passwords do not.
func TestNodePasswordStorage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.network(t, e.adminA, "pw", mesh.NetworkFields{})
		svc := e.start(t, e.bus, mesh.WithNodePasswordKey(e.keys.NodePasswordKey()))
		ctx := context.Background()
		for i, tc := range []struct {
			name, password, prefix string
		}{
			{"machine secret: keyed hash", machinePassword, "nkhmac1$"},
			{"20 characters, 10 distinct: keyed hash", "abcdefghij0123456789", "nkhmac1$"},
			{"short human password: argon2id", "reallysecret", "$argon2id$"},
			{"long but repetitive: argon2id", strings.Repeat("ab", 15), "$argon2id$"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				n := e.join(t, svc, "pw", i+1, func(f *mesh.JoinFields) { f.Password = tc.password })
				if h := storedHash(t, db, n.ID); !strings.HasPrefix(h, tc.prefix) || strings.Contains(h, tc.password) {
					t.Fatalf("stored hash %q, want prefix %q", h, tc.prefix)
				}
				if _, _, err := svc.AuthenticateNode(ctx, "pw", n.MAC, tc.password); err != nil {
					t.Fatalf("right password: %v", err)
				}
				if _, _, err := svc.AuthenticateNode(ctx, "pw", n.MAC, tc.password+"x"); !fault.Is(err, fault.Unauthorized) {
					t.Fatalf("wrong password: %v", err)
				}
			})
		}

		t.Run("a keyed hash is refused without the key", func(t *testing.T) {
			n := e.join(t, svc, "pw", 20, func(f *mesh.JoinFields) { f.Password = machinePassword })
			keyless := e.start(t, nil)
			if _, _, err := keyless.AuthenticateNode(ctx, "pw", n.MAC, machinePassword); err == nil {
				t.Fatal("authenticated against a keyed hash without the key")
			}
		})
	})
}

// TestNodePasswordRehash: an argon2id hash (a node from before keyed hashes)
// is replaced by a keyed one on the next successful authentication, with an
// audit entry, and only when the password qualifies.
func TestNodePasswordRehash(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db) // e.svc has no key: argon2id for all, as before
		ctx := context.Background()
		e.network(t, e.adminA, "old", mesh.NetworkFields{})
		machine := e.join(t, e.svc, "old", 1, func(f *mesh.JoinFields) { f.Password = machinePassword })
		human := e.join(t, e.svc, "old", 2, func(f *mesh.JoinFields) { f.Password = "reallysecret" })
		for _, n := range []*mesh.Node{machine, human} {
			if h := storedHash(t, db, n.ID); !strings.HasPrefix(h, "$argon2id$") {
				t.Fatalf("node %d before: %q", n.ID, h)
			}
		}

		keyed := e.start(t, e.bus, mesh.WithNodePasswordKey(e.keys.NodePasswordKey()))
		if _, _, err := keyed.AuthenticateNode(ctx, "old", machine.MAC, "wrong-password-of-machine"); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("wrong password: %v", err)
		}
		if h := storedHash(t, db, machine.ID); !strings.HasPrefix(h, "$argon2id$") {
			t.Fatalf("a failed authentication changed the hash: %q", h)
		}
		for _, n := range []*mesh.Node{machine, human} {
			pw := map[int64]string{machine.ID: machinePassword, human.ID: "reallysecret"}[n.ID]
			if _, _, err := keyed.AuthenticateNode(ctx, "old", n.MAC, pw); err != nil {
				t.Fatalf("node %d: %v", n.ID, err)
			}
		}
		if h := storedHash(t, db, machine.ID); !strings.HasPrefix(h, "nkhmac1$") {
			t.Fatalf("machine password not rehashed: %q", h)
		}
		if h := storedHash(t, db, human.ID); !strings.HasPrefix(h, "$argon2id$") {
			t.Fatalf("human password rehashed: %q", h)
		}
		if _, _, err := keyed.AuthenticateNode(ctx, "old", machine.MAC, machinePassword); err != nil {
			t.Fatalf("after the rehash: %v", err)
		}
		entries, err := db.Read().ListAudit(ctx, audit.Query{Action: "node.password_rehash", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Target != "node:"+strconv.FormatInt(machine.ID, 10) || entries[0].GroupID != e.groupA {
			t.Fatalf("audit entries: %+v", entries)
		}
	})
}
