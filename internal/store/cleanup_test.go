package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// DeleteExpired removes every expired session, token, sign-in ticket, MFA setup,
// OIDC state and throttle counter, and keeps the live ones (and counters that
// expired but still hold a lockout).
func TestStore_DeleteExpiredRemovesOnlyExpiredRows(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		ts := func(d time.Duration) any {
			v := now.Add(d)
			if st.Dialect() == store.SQLite {
				return v.Format("2006-01-02T15:04:05.000000Z")
			}
			return v
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := st.DB().ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		for _, u := range []string{"a", "b"} {
			exec(`INSERT INTO users (name, username, email, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`, u, u, u+"@example.com", ts(-time.Hour))
		}
		var ua, ub int64
		st.DB().QueryRowContext(ctx, `SELECT id FROM users WHERE username = 'a'`).Scan(&ua)
		st.DB().QueryRowContext(ctx, `SELECT id FROM users WHERE username = 'b'`).Scan(&ub)
		exec(`INSERT INTO identity_providers (name, slug, created_at, updated_at) VALUES ('P', 'p', $1, $1)`, ts(-time.Hour))
		var idpID int64
		st.DB().QueryRowContext(ctx, `SELECT id FROM identity_providers WHERE slug = 'p'`).Scan(&idpID)

		session := func(id string, exp time.Duration) {
			exec(`INSERT INTO sessions (id, user_id, family_id, auth_method, ip_address, device_type, operating_system,
				operating_system_version, browser, browser_version, created_at, authenticated_at, last_active_at, expires_at, absolute_expires_at)
				VALUES ($1, $2, $1, 'password', '127.0.0.1', 'pc', 'linux', '', 'go', '', $3, $3, $3, $4, $5)`,
				id, ua, ts(-2*time.Hour), ts(exp), ts(30*24*time.Hour))
		}
		session("s-live", time.Hour)
		session("s-dead", -time.Second)
		session("s-edge", 0) // expiring exactly now counts as expired
		token := func(hash, sess string, exp time.Duration) {
			exec(`INSERT INTO session_tokens (token_hash, session_id, kind, created_at, expires_at) VALUES ($1, $2, 'access', $3, $4)`,
				hash, sess, ts(-time.Hour), ts(exp))
		}
		token("t-live", "s-live", 10*time.Minute)
		token("t-dead", "s-live", -time.Minute)
		token("t-orphaned", "s-dead", time.Hour) // goes with its session
		ticket := func(hash string, exp time.Duration) {
			exec(`INSERT INTO login_tickets (ticket_hash, user_id, username, client_type, auth_method, created_at, expires_at)
				VALUES ($1, $2, 'a', 'web', 'password', $3, $4)`, hash, ua, ts(-time.Minute), ts(exp))
		}
		ticket("k-live", 4*time.Minute)
		ticket("k-dead", -time.Second)
		setup := func(user int64, exp time.Duration) {
			exec(`INSERT INTO mfa_setups (user_id, secret_ciphertext, created_at, expires_at) VALUES ($1, 'x', $2, $3)`, user, ts(-time.Minute), ts(exp))
		}
		setup(ua, 5*time.Minute)
		setup(ub, -time.Minute)
		state := func(hash string, exp time.Duration) {
			exec(`INSERT INTO oidc_states (state_hash, binding_hash, idp_id, mode, nonce, code_verifier, created_at, expires_at)
				VALUES ($1, 'b', $2, 'login', 'n', 'v', $3, $4)`, hash, idpID, ts(-time.Minute), ts(exp))
		}
		state("o-live", 5*time.Minute)
		state("o-dead", -time.Minute)
		counter := func(key string, exp time.Duration, lockedUntil any) {
			exec(`INSERT INTO throttle_counters (key, count, window_start, locked_until, expires_at) VALUES ($1, 3, $2, $3, $4)`,
				key, ts(-time.Hour), lockedUntil, ts(exp))
		}
		counter("c-live", time.Minute, nil)
		counter("c-dead", -time.Minute, nil)
		counter("c-dead-lock-over", -time.Minute, ts(-time.Second))
		counter("c-expired-but-locked", -time.Minute, ts(10*time.Minute))

		n, err := st.DeleteExpired(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		// 2 sessions, 1 token, 1 ticket, 1 setup, 1 state, 2 counters (cascades not counted).
		if n != 8 {
			t.Errorf("DeleteExpired = %d rows, want 8", n)
		}
		left := func(q string) string {
			t.Helper()
			rows, err := st.DB().QueryContext(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				out = append(out, s)
			}
			return strings.Join(out, ",")
		}
		for q, want := range map[string]string{
			`SELECT id FROM sessions ORDER BY id`:                                         "s-live",
			`SELECT token_hash FROM session_tokens ORDER BY token_hash`:                   "t-live",
			`SELECT ticket_hash FROM login_tickets ORDER BY ticket_hash`:                  "k-live",
			`SELECT username FROM mfa_setups JOIN users ON users.id = mfa_setups.user_id`: "a",
			`SELECT state_hash FROM oidc_states ORDER BY state_hash`:                      "o-live",
			`SELECT key FROM throttle_counters ORDER BY key`:                              "c-expired-but-locked,c-live",
		} {
			if got := left(q); got != want {
				t.Errorf("%s: left %q, want %q", q, got, want)
			}
		}
		// A second run finds nothing more.
		if n, err := st.DeleteExpired(ctx, now); err != nil || n != 0 {
			t.Errorf("second DeleteExpired = %d, %v; want 0", n, err)
		}
	})
}
