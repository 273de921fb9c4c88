package profile_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/secret"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// profileEnv is a profile.Service over a real store and blob directory. Fixture
// rows of tables no store method writes yet (gear, weights, sessions, activities)
// are inserted with plain SQL through st.DB(); that SQL is test-only.
type profileEnv struct {
	svc   *profile.Service
	auth  *auth.Service // the real recent-authentication checker
	st    *store.Store
	blobs *blob.Dir
	clock *testkit.Clock
}

var testHasher = secret.NewHasher(secret.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 4)

func newProfileEnv(t *testing.T, s *store.Store) *profileEnv {
	t.Helper()
	b, err := blob.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	clock := testkit.NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	a := &auth.Service{Store: s, Users: s, Hasher: testHasher, Events: s, Now: clock.Now,
		Throttle: &auth.Throttle{Store: s, Now: clock.Now}, Settings: s, Devices: s,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return &profileEnv{
		svc:  &profile.Service{Store: s, Blobs: b, Events: s, Hasher: testHasher, Now: clock.Now, Recent: a},
		auth: a, st: s, blobs: b, clock: clock,
	}
}

// user creates a regular, active user named name, with password pw if not empty.
func (e *profileEnv) user(t *testing.T, name, pw string) *account.User {
	t.Helper()
	now := e.clock.Now()
	u := &account.User{Name: name, Username: name, Email: name + "@example.com", PreferredLanguage: "us",
		Gender: 1, Units: 1, AccessType: account.AccessRegular, Active: true, FirstDayOfWeek: 1, Currency: 1,
		CreatedAt: now, UpdatedAt: now}
	if pw != "" {
		h, err := testHasher.Hash(context.Background(), pw)
		if err != nil {
			t.Fatal(err)
		}
		u.PasswordHash = &h
	}
	if err := e.st.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *profileEnv) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := e.st.DB().ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// ts formats a time as both engines accept it for a time column.
func (e *profileEnv) ts(tm time.Time) any {
	if e.st.Dialect() == store.SQLite {
		return tm.UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	return tm.UTC()
}

func (e *profileEnv) gear(t *testing.T, userID int64, nickname string) int64 {
	t.Helper()
	var id int64
	err := e.st.DB().QueryRowContext(context.Background(), `INSERT INTO gear (user_id, nickname, gear_type, created_at)
		VALUES ($1, $2, 1, $3) RETURNING id`, userID, nickname, e.ts(e.clock.Now())).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (e *profileEnv) session(t *testing.T, id string, userID int64, authenticatedAt time.Time) {
	t.Helper()
	now := e.clock.Now()
	e.exec(t, `INSERT INTO sessions (id, user_id, family_id, auth_method, ip_address, device_type, operating_system,
		operating_system_version, browser, browser_version, created_at, authenticated_at, last_active_at, expires_at,
		absolute_expires_at) VALUES ($1, $2, $1, 'password', '127.0.0.1', 'pc', 'linux', '6', 'firefox', '140',
		$3, $4, $3, $5, $5)`, id, userID, e.ts(authenticatedAt), e.ts(authenticatedAt), e.ts(now.Add(24*time.Hour)))
}

// caller is u on session id, authenticated at at.
func (e *profileEnv) caller(u *account.User, id string, at time.Time) *account.Caller {
	return &account.Caller{User: u, SessionID: id, AuthenticatedAt: at, IP: "192.0.2.7", UserAgent: "test"}
}

func (e *profileEnv) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.st.DB().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (e *profileEnv) findUser(t *testing.T, id int64) *account.User {
	t.Helper()
	u, err := e.st.FindUserByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, err error, code string) *account.Error {
	t.Helper()
	if got := account.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
	var ae *account.Error
	errors.As(err, &ae)
	return ae
}

// wantFields fails unless ae lists exactly the fields want, in any order.
func wantFields(t *testing.T, ae *account.Error, want ...string) {
	t.Helper()
	got := map[string]bool{}
	for _, f := range ae.Fields {
		got[f.Field] = true
		if f.Message == "" {
			t.Errorf("field %s has no message", f.Field)
		}
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("field %s not reported; got %+v", w, ae.Fields)
		}
	}
	if len(ae.Fields) != len(want) {
		t.Errorf("fields = %+v, want exactly %v", ae.Fields, want)
	}
}
