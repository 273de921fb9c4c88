package account_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/secret"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// countingGuard records attempts and locks after limit of them.
type countingGuard struct {
	attempts, successes, limit int
}

func (g *countingGuard) Attempt(ctx context.Context, key string) error {
	g.attempts++
	if g.attempts > g.limit {
		return &account.Error{Code: account.ETOOMANY, Message: "Too many requests", RetryAfter: 60}
	}
	return nil
}

func (g *countingGuard) Succeeded(ctx context.Context, key string) error {
	g.successes++
	return nil
}

func strp(s string) *string { return &s }

func TestProfileService_ChangePassword(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := newProfileEnv(t, s)
		const oldPW, newPW = "Old-password1", "New-password2"
		u := e.user(t, "changer", oldPW)
		other := e.user(t, "bystander", oldPW)
		now := e.clock.Now()
		e.session(t, "mine-old", u.ID, now.Add(-11*time.Minute))
		e.session(t, "mine-fresh", u.ID, now.Add(-9*time.Minute))
		e.session(t, "mine-other1", u.ID, now)
		e.session(t, "mine-other2", u.ID, now)
		e.session(t, "theirs", other.ID, now)
		verify := func(pw string) error {
			_, err := testHasher.Verify(ctx, *e.findUser(t, u.ID).PasswordHash, pw)
			return err
		}

		t.Run("StaleSessionWithoutCurrentPassword", func(t *testing.T) {
			_, err := e.svc.ChangePassword(ctx, u.ID, account.PasswordChange{Password: newPW, SessionID: "mine-old"})
			if ae := wantCode(t, err, account.EFORBIDDEN); ae.Message != account.MsgReauthRequired {
				t.Fatalf("message %q", ae.Message)
			}
			if err := verify(oldPW); err != nil {
				t.Fatalf("password changed: %v", err)
			}
		})

		t.Run("WrongCurrentPassword", func(t *testing.T) {
			g := &countingGuard{limit: 1}
			e.svc.Guard = g
			defer func() { e.svc.Guard = nil }()
			_, err := e.svc.ChangePassword(ctx, u.ID, account.PasswordChange{Password: newPW, CurrentPassword: strp("nope"), SessionID: "mine-fresh", RecentlyAuthenticated: true})
			if ae := wantCode(t, err, account.EFORBIDDEN); ae.Message != account.MsgWrongCurrentPassword {
				t.Fatalf("message %q", ae.Message)
			}
			// The guard locks even a right guess once the limit is passed.
			_, err = e.svc.ChangePassword(ctx, u.ID, account.PasswordChange{Password: newPW, CurrentPassword: strp(oldPW), SessionID: "mine-fresh", RecentlyAuthenticated: true})
			wantCode(t, err, account.ETOOMANY)
			if g.attempts != 2 || g.successes != 0 {
				t.Fatalf("guard saw %d attempts, %d successes", g.attempts, g.successes)
			}
			if err := verify(oldPW); err != nil {
				t.Fatalf("password changed: %v", err)
			}
		})

		t.Run("PolicyViolation", func(t *testing.T) {
			_, err := e.svc.ChangePassword(ctx, u.ID, account.PasswordChange{Password: "short", SessionID: "mine-fresh", RecentlyAuthenticated: true})
			// Endurain answers a weak password with a 422 naming the field.
			if ae := wantCode(t, err, account.EUNPROCESSABLE); len(ae.Fields) != 1 || ae.Fields[0].Field != "password" || ae.Fields[0].Message != account.PasswordPolicy {
				t.Fatalf("fields %+v", ae.Fields)
			}
		})

		t.Run("WithCurrentPasswordOnStaleSession", func(t *testing.T) {
			g := &countingGuard{limit: 10}
			e.svc.Guard = g
			defer func() { e.svc.Guard = nil }()
			revoked, err := e.svc.ChangePassword(ctx, u.ID, account.PasswordChange{Password: newPW,
				CurrentPassword: strp(oldPW), SessionID: "mine-old", IPAddress: "192.0.2.7", UserAgent: "test"})
			if err != nil {
				t.Fatal(err)
			}
			if revoked != 3 {
				t.Fatalf("revoked %d sessions, want 3", revoked)
			}
			if g.successes != 1 {
				t.Fatalf("guard successes = %d", g.successes)
			}
			if err := verify(newPW); err != nil {
				t.Fatalf("new password does not verify: %v", err)
			}
			if err := verify(oldPW); !errors.Is(err, secret.ErrMismatch) {
				t.Fatalf("old password still verifies: %v", err)
			}
			if n := e.count(t, `SELECT COUNT(*) FROM sessions WHERE user_id = $1`, u.ID); n != 1 {
				t.Fatalf("%d sessions left, want the caller's only", n)
			}
			if n := e.count(t, `SELECT COUNT(*) FROM sessions WHERE id = 'mine-old'`); n != 1 {
				t.Fatal("the caller's session was revoked")
			}
			if n := e.count(t, `SELECT COUNT(*) FROM sessions WHERE id = 'theirs'`); n != 1 {
				t.Fatal("another user's session was revoked")
			}
			evs, err := s.ListSecurityEvents(ctx, u.ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].Type != account.EventPasswordChanged || evs[0].IPAddress != "192.0.2.7" ||
				evs[0].Detail["sessions_revoked"] != float64(3) {
				t.Fatalf("events = %+v", evs)
			}
		})

		t.Run("RecentSessionWithoutCurrentPassword", func(t *testing.T) {
			e.session(t, "fresh2", u.ID, e.clock.Now().Add(-time.Minute))
			revoked, err := e.svc.ChangePassword(ctx, u.ID, account.PasswordChange{Password: oldPW, SessionID: "fresh2", RecentlyAuthenticated: true})
			if err != nil {
				t.Fatal(err)
			}
			if revoked != 1 {
				t.Fatalf("revoked %d, want 1 (mine-old)", revoked)
			}
			if err := verify(oldPW); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("NoPasswordAccount", func(t *testing.T) {
			sso := e.user(t, "ssoonly", "")
			_, err := e.svc.ChangePassword(ctx, sso.ID, account.PasswordChange{Password: newPW, CurrentPassword: strp("anything"), SessionID: "x"})
			wantCode(t, err, account.EFORBIDDEN)
		})
	})
}
