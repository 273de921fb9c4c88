package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// Every table the data model needs, on both engines.
var wantTables = []string{
	"users", "users_privacy_settings", "users_integrations", "users_goals", "users_default_gear",
	"activities", "activity_laps", "activity_sets", "activity_streams", "activity_workout_steps",
	"activity_media", "activity_exercise_titles", "gear", "gear_components", "health_weight",
	"health_targets", "notifications", "sessions", "session_tokens", "mfa_factors", "backup_codes",
	"identity_providers", "users_identity_providers", "mfa_setups", "login_tickets", "oidc_states",
	"throttle_counters", "import_jobs", "security_events",
}

func TestStore_Migrate(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		ctx := context.Background()
		s, err := store.Open(ctx, b.URL, b.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Ready(ctx); err == nil {
			t.Fatal("Ready before migrating: want an error")
		}
		n, err := s.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("applied no migrations to an empty database")
		}
		if n, err := s.Migrate(ctx); err != nil || n != 0 {
			t.Fatalf("second Migrate = %d, %v; want 0, nil", n, err)
		}
		if err := s.Ready(ctx); err != nil {
			t.Fatalf("Ready after migrating: %v", err)
		}
		tables, err := s.Tables(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range wantTables {
			if !slices.Contains(tables, want) {
				t.Errorf("table %s missing; have %v", want, tables)
			}
		}
	})
}

func newUser(name string) *account.User {
	now := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	return &account.User{Name: name, Username: name, Email: name + "@example.com", PreferredLanguage: "us",
		Gender: 1, Units: 1, AccessType: account.AccessRegular, Active: true, FirstDayOfWeek: 1, Currency: 1,
		CreatedAt: now, UpdatedAt: now}
}

func TestStore_Users(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		t.Run("CreateAndFind", func(t *testing.T) {
			u := newUser("alice")
			bd := "1990-05-17"
			u.Birthdate = &bd
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if u.ID == 0 {
				t.Fatal("CreateUser did not set the id")
			}
			got, err := s.FindUserByUsername(ctx, "ALICE")
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != u.ID || got.Email != "alice@example.com" || got.PasswordHash != nil || !got.Active {
				t.Fatalf("got %+v", got)
			}
			if got.Birthdate == nil || *got.Birthdate != bd {
				t.Fatalf("birthdate = %v, want %s", got.Birthdate, bd)
			}
			if !got.CreatedAt.Equal(u.CreatedAt) {
				t.Fatalf("created_at = %v, want %v", got.CreatedAt, u.CreatedAt)
			}
			// The one-per-user rows exist, exactly once each.
			for _, table := range []string{"users_privacy_settings", "users_integrations", "health_targets", "users_default_gear"} {
				var n int
				if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE user_id = $1`, u.ID).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					t.Errorf("%s has %d rows for the user, want 1", table, n)
				}
			}
		})
		t.Run("ErrConflict", func(t *testing.T) {
			u := newUser("bob")
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			dup := newUser("bob")
			dup.Email = "other@example.com"
			if err := s.CreateUser(ctx, dup); account.ErrorCode(err) != account.ECONFLICT {
				t.Fatalf("duplicate username: err = %v, want ECONFLICT", err)
			}
			dup = newUser("bob2")
			dup.Email = "bob@example.com"
			if err := s.CreateUser(ctx, dup); account.ErrorCode(err) != account.ECONFLICT {
				t.Fatalf("duplicate email: err = %v, want ECONFLICT", err)
			}
			// The failed insert left no orphan child rows behind.
			var n int
			s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM users_privacy_settings`).Scan(&n)
			users, _ := s.CountUsers(ctx)
			if n != users {
				t.Fatalf("%d privacy rows for %d users", n, users)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			if _, err := s.FindUserByID(ctx, 999999); account.ErrorCode(err) != account.ENOTFOUND {
				t.Fatalf("err = %v, want ENOTFOUND", err)
			}
			if err := s.SetPasswordHash(ctx, 999999, "x"); account.ErrorCode(err) != account.ENOTFOUND {
				t.Fatalf("err = %v, want ENOTFOUND", err)
			}
		})
		t.Run("ListCountSetPassword", func(t *testing.T) {
			users, err := s.ListUsers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n, err := s.CountUsers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(users) != n || n < 2 || users[0].ID > users[1].ID {
				t.Fatalf("ListUsers = %d users, CountUsers = %d", len(users), n)
			}
			if err := s.SetPasswordHash(ctx, users[0].ID, "$argon2id$x"); err != nil {
				t.Fatal(err)
			}
			got, _ := s.FindUserByID(ctx, users[0].ID)
			if got.PasswordHash == nil || *got.PasswordHash != "$argon2id$x" {
				t.Fatalf("password = %v", got.PasswordHash)
			}
		})
		t.Run("CascadeDelete", func(t *testing.T) {
			u := newUser("carol")
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if _, err := s.DB().ExecContext(ctx, `DELETE FROM users WHERE id = $1`, u.ID); err != nil {
				t.Fatal(err)
			}
			var n int
			s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM users_default_gear WHERE user_id = $1`, u.ID).Scan(&n)
			if n != 0 {
				t.Fatalf("child rows survived the user: %d (foreign keys not enforced?)", n)
			}
		})
	})
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url     string
		dialect store.Dialect
		wantErr bool
	}{
		{"", store.SQLite, false},
		{"sqlite:/tmp/x.db", store.SQLite, false},
		{"sqlite:///tmp/x.db", store.SQLite, false},
		{"postgres://u@localhost/db", store.Postgres, false},
		{"postgresql://u@localhost/db?sslmode=disable", store.Postgres, false},
		{"mysql://u@localhost/db", "", true},
		{"sqlite:", "", true},
	} {
		d, _, err := store.ParseURL(tc.url, "/data")
		if (err != nil) != tc.wantErr || d != tc.dialect {
			t.Errorf("ParseURL(%q) = %q, %v", tc.url, d, err)
		}
	}
}

func TestStore_SecurityEvents(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := newUser("eve")
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
		for i, typ := range []string{account.EventLogin, account.EventMFAEnabled} {
			e := &account.SecurityEvent{UserID: &u.ID, Type: typ, IPAddress: "192.0.2.1", UserAgent: "curl",
				Detail: map[string]any{"n": i}, CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
			if err := s.RecordSecurityEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.ListSecurityEvents(ctx, u.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Type != account.EventMFAEnabled || got[1].Detail["n"] != float64(0) || got[0].IPAddress != "192.0.2.1" {
			t.Fatalf("events: %+v", got)
		}
	})
}
