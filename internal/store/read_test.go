package store_test

import (
	"context"
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
			sess, prof, err := st.FindAccessSessionProfile(ctx, "h1", now)
			if err != nil {
				t.Fatal(err)
			}
			if sess.ID != "s1" || prof.User.ID != uid || prof.User.Username != "a" || prof.Privacy != nil {
				t.Fatalf("without privacy row: session %+v, profile %+v", sess, prof)
			}
		}
		exec(`INSERT INTO users_privacy_settings (user_id, default_activity_visibility, hide_activity_map) VALUES ($1, 2, TRUE)`, uid)
		for range 2 {
			sess, prof, err := st.FindAccessSessionProfile(ctx, "h1", now)
			if err != nil {
				t.Fatal(err)
			}
			_, u, err := st.FindAccessSession(ctx, "h1", now)
			if err != nil {
				t.Fatal(err)
			}
			if sess.ID != "s1" || *prof.User != *u || prof.Privacy == nil || prof.Privacy.UserID != uid ||
				prof.Privacy.DefaultActivityVisibility != 2 || !prof.Privacy.HideActivityMap || prof.Privacy.HideActivityHR ||
				prof.Links != (profile.Links{}) {
				t.Fatalf("with privacy row: session %+v, profile %+v %+v, plain user %+v", sess, prof.User, prof.Privacy, u)
			}
		}
		if _, _, err := st.FindAccessSessionProfile(ctx, "unknown", now); account.ErrorCode(err) != account.ENOTFOUND {
			t.Fatalf("unknown token: %v, want ENOTFOUND", err)
		}
		if ok, err := st.DeleteSession(ctx, "s1"); !ok || err != nil {
			t.Fatalf("delete session: %v %v", ok, err)
		}
		if _, _, err := st.FindAccessSessionProfile(ctx, "h1", now); account.ErrorCode(err) != account.ENOTFOUND {
			t.Fatalf("revoked session, profile lookup: %v, want ENOTFOUND", err)
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
