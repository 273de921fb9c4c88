package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// The session lookup of GET /profile reads the profile in the same query, on
// the read pool with prepared statements on SQLite. It must agree with the
// plain lookup, see a user without privacy settings, and see a revocation
// (a write on the other pool) on the very next call.
func TestStore_FindAccessSessionProfile(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
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
		exec(`INSERT INTO users (name, username, email, created_at, updated_at) VALUES ('A', 'a', 'a@example.com', $1, $1)`, ts(-time.Hour))
		var uid int64
		st.DB().QueryRowContext(ctx, `SELECT id FROM users WHERE username = 'a'`).Scan(&uid)
		exec(`INSERT INTO sessions (id, user_id, family_id, auth_method, ip_address, device_type, operating_system,
			operating_system_version, browser, browser_version, created_at, authenticated_at, last_active_at, expires_at, absolute_expires_at)
			VALUES ('s1', $1, 's1', 'password', '127.0.0.1', 'pc', 'linux', '', 'go', '', $2, $2, $2, $3, $3)`, uid, ts(-time.Minute), ts(time.Hour))
		exec(`INSERT INTO session_tokens (token_hash, session_id, kind, created_at, expires_at) VALUES ('h1', 's1', 'access', $1, $2)`, ts(-time.Minute), ts(time.Hour))

		// Twice each: the second call runs the cached prepared statement.
		for range 2 {
			sess, prof, version, err := st.FindAccessSessionProfile(ctx, "h1", now)
			if err != nil {
				t.Fatal(err)
			}
			if sess.ID != "s1" || prof.User.ID != uid || prof.User.Username != "a" || prof.Privacy != nil || version != -1 {
				t.Fatalf("without privacy row: session %+v, profile %+v, version %d", sess, prof, version)
			}
		}
		_, before, err := st.CheckAccessSession(ctx, "h1", now)
		if err != nil {
			t.Fatal(err)
		}
		exec(`INSERT INTO users_privacy_settings (user_id, default_activity_visibility, hide_activity_map) VALUES ($1, 2, TRUE)`, uid)
		for range 2 {
			sess, prof, version, err := st.FindAccessSessionProfile(ctx, "h1", now)
			if err != nil {
				t.Fatal(err)
			}
			_, u, err := st.FindAccessSession(ctx, "h1", now)
			if err != nil {
				t.Fatal(err)
			}
			checked, checkedVersion, err := st.CheckAccessSession(ctx, "h1", now)
			if err != nil {
				t.Fatal(err)
			}
			if sess.ID != "s1" || *prof.User != *u || prof.Privacy == nil || prof.Privacy.UserID != uid ||
				prof.Privacy.DefaultActivityVisibility != 2 || !prof.Privacy.HideActivityMap || prof.Privacy.HideActivityHR ||
				prof.Links != (profile.Links{}) {
				t.Fatalf("with privacy row: session %+v, profile %+v %+v, plain user %+v", sess, prof.User, prof.Privacy, u)
			}
			if *checked != *sess || checkedVersion != version || version <= before {
				t.Fatalf("check: session %+v version %d; profile read: %+v version %d; before the privacy row: %d",
					checked, checkedVersion, sess, version, before)
			}
		}
		if _, _, _, err := st.FindAccessSessionProfile(ctx, "unknown", now); account.ErrorCode(err) != account.ENOTFOUND {
			t.Fatalf("unknown token: %v, want ENOTFOUND", err)
		}
		if _, _, err := st.CheckAccessSession(ctx, "unknown", now); account.ErrorCode(err) != account.ENOTFOUND {
			t.Fatalf("unknown token, check: %v, want ENOTFOUND", err)
		}
		if ok, err := st.DeleteSession(ctx, "s1"); !ok || err != nil {
			t.Fatalf("delete session: %v %v", ok, err)
		}
		if _, _, _, err := st.FindAccessSessionProfile(ctx, "h1", now); account.ErrorCode(err) != account.ENOTFOUND {
			t.Fatalf("revoked session, profile lookup: %v, want ENOTFOUND", err)
		}
		if _, _, err := st.CheckAccessSession(ctx, "h1", now); account.ErrorCode(err) != account.ENOTFOUND {
			t.Fatalf("revoked session, check: %v, want ENOTFOUND", err)
		}
		if _, _, err := st.FindAccessSession(ctx, "h1", now); account.ErrorCode(err) != account.ENOTFOUND {
			t.Fatalf("revoked session, plain lookup: %v, want ENOTFOUND", err)
		}
	})
}

// The SQLite read pool refuses writes, so nothing can write outside the
// IMMEDIATE transactions of the write pool by mistake.
func TestStore_SQLiteReadPoolIsReadOnly(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ReadDB().ExecContext(context.Background(), `DELETE FROM users`); err == nil {
		t.Fatal("a write on the read pool succeeded")
	}
	var n int
	if err := st.ReadDB().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		t.Fatalf("read on the read pool: %v", err)
	}
}

// A user's data version (the profile cache's check, auth.profileCache) moves
// with every change to what GET /profile shows, whoever writes it, here plain
// SQL as another process would; session activity leaves it alone. On
// PostgreSQL the move is part of the writing transaction: a reader sees the
// new version only with the new data.
func TestStore_UserVersionFollowsProfile(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := createUser(t, st, "versioned")
		now := time.Now().UTC()
		ts := now.Format("2006-01-02T15:04:05.000000Z")
		version := func() int64 {
			t.Helper()
			var v int64
			if err := st.DB().QueryRowContext(ctx, `SELECT version FROM user_versions WHERE user_id = $1`, u.ID).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		steps := []struct {
			name, q string
			moves   bool
		}{
			{"user row", `UPDATE users SET city = 'Porto' WHERE id = $1`, true},
			{"privacy settings", `UPDATE users_privacy_settings SET hide_activity_map = TRUE WHERE user_id = $1`, true},
			{"privacy settings removed", `DELETE FROM users_privacy_settings WHERE user_id = $1`, true},
			{"privacy settings added", `INSERT INTO users_privacy_settings (user_id) VALUES ($1)`, true},
			{"integrations changed", `UPDATE users_integrations SET strava_token = 'sealed' WHERE user_id = $1`, true},
			{"integrations removed", `DELETE FROM users_integrations WHERE user_id = $1`, true},
			{"integrations added", `INSERT INTO users_integrations (user_id) VALUES ($1)`, true},
			{"MFA enabled", `INSERT INTO mfa_factors (user_id, type, secret_ciphertext, created_at) VALUES ($1, 'totp', 'sealed', '` + ts + `')`, true},
			{"MFA code used", `UPDATE mfa_factors SET last_used_step = 7 WHERE user_id = $1`, true},
			{"MFA disabled", `DELETE FROM mfa_factors WHERE user_id = $1`, true},
			{"session added", `INSERT INTO sessions (id, user_id, family_id, auth_method, ip_address, device_type, operating_system,
				operating_system_version, browser, browser_version, created_at, authenticated_at, last_active_at, expires_at, absolute_expires_at)
				VALUES ('v1', $1, 'v1', 'password', '127.0.0.1', 'pc', 'linux', '', 'go', '', '` + ts + `', '` + ts + `', '` + ts + `', '` + ts + `', '` + ts + `')`, false},
			{"session active", `UPDATE sessions SET last_active_at = '` + ts + `' WHERE user_id = $1`, false},
			{"token added", `INSERT INTO session_tokens (token_hash, session_id, kind, created_at, expires_at) VALUES ('v1', 'v1', 'access', '` + ts + `', '` + ts + `')`, false},
		}
		for _, s := range steps {
			before := version()
			var args []any
			if strings.Contains(s.q, "$1") {
				args = append(args, u.ID)
			}
			if _, err := st.DB().ExecContext(ctx, s.q, args...); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if after := version(); (after != before) != s.moves {
				t.Errorf("%s: version %d → %d; want moved = %v", s.name, before, after, s.moves)
			}
		}

		// Inside an open transaction neither the change nor the new version
		// shows; after its commit both do.
		before := version()
		tx, err := st.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET city = 'Braga' WHERE id = $1`, u.ID); err != nil {
			t.Fatal(err)
		}
		if st.Dialect() == store.Postgres { // SQLite's single writer: the reader would wait, not see
			var city string
			var v int64
			if err := st.ReadDB().QueryRowContext(ctx, `SELECT u.city, v.version FROM users u JOIN user_versions v ON v.user_id = u.id WHERE u.id = $1`, u.ID).Scan(&city, &v); err != nil {
				t.Fatal(err)
			}
			if city != "Porto" || v != before {
				t.Fatalf("during the transaction: city %q version %d; want Porto and %d", city, v, before)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if after := version(); after == before {
			t.Fatalf("version %d unchanged after the commit", after)
		}
	})
}
