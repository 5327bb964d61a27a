package identity

import (
	"strconv"
	"strings"
	"time"

	"netkeep/internal/lockout"
)

// loginLocks slows password and TOTP guessing per key: the login name as
// typed (tracked whether or not such a user exists, so its answers never
// reveal existence) and the account it resolved to (so the username and the
// email of one account share one count). Five consecutive failures lock a
// key for 30 s, doubling up to 15 min.
var loginLocks = lockout.Policy{After: 5, Base: 30 * time.Second, Max: 15 * time.Minute, Idle: time.Hour, MaxKeys: 100_000}

// nameKey is the lock key of a login name; accountKey of an account. The
// prefixes keep the two spaces apart.
func nameKey(login string) string { return "name:" + strings.ToLower(strings.TrimSpace(login)) }
func accountKey(id int64) string  { return "user:" + strconv.FormatInt(id, 10) }
