package profile_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/secret"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

func strp(s string) *string { return &s }

// The password change with auth.Service as its real recent-authentication
// checker: a recent session, or the current password, and nothing else.
func TestService_ChangePassword(t *testing.T) {
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
		stale := e.caller(u, "mine-old", now.Add(-11*time.Minute))
		fresh := e.caller(u, "mine-fresh", now.Add(-9*time.Minute))
		verify := func(pw string) error {
			_, err := testHasher.Verify(ctx, *e.findUser(t, u.ID).PasswordHash, pw)
			return err
		}

		t.Run("StaleSessionWithoutCurrentPassword", func(t *testing.T) {
			_, err := e.svc.ChangePassword(ctx, stale, u.ID, profile.PasswordChange{Password: newPW})
			if ae := wantCode(t, err, account.EFORBIDDEN); !strings.HasPrefix(ae.Message, "Recent authentication required: confirm your password") {
				t.Fatalf("message %q", ae.Message)
			}
			if err := verify(oldPW); err != nil {
				t.Fatalf("password changed: %v", err)
			}
		})

		t.Run("NotTheOwner", func(t *testing.T) {
			_, err := e.svc.ChangePassword(ctx, e.caller(other, "theirs", now), u.ID, profile.PasswordChange{Password: newPW})
			wantCode(t, err, account.EFORBIDDEN)
			if err := verify(oldPW); err != nil {
				t.Fatalf("password changed: %v", err)
			}
		})

		t.Run("NoChecker", func(t *testing.T) {
			// A service wired without its checker fails closed, even for a
			// fresh session.
			bare := &profile.Service{Store: s, Blobs: e.blobs, Events: s, Hasher: testHasher, Now: e.clock.Now}
			if _, err := bare.ChangePassword(ctx, fresh, u.ID, profile.PasswordChange{Password: newPW}); err == nil || account.ErrorCode(err) != account.EINTERNAL {
				t.Fatalf("err = %v, want an internal error", err)
			}
			if _, err := bare.ChangePassword(ctx, stale, u.ID, profile.PasswordChange{Password: newPW, CurrentPassword: strp(oldPW)}); err == nil {
				t.Fatal("changed without a checker")
			}
			if err := verify(oldPW); err != nil {
				t.Fatalf("password changed: %v", err)
			}
		})

		t.Run("WrongCurrentPassword", func(t *testing.T) {
			_, err := e.svc.ChangePassword(ctx, fresh, u.ID, profile.PasswordChange{Password: newPW, CurrentPassword: strp("nope")})
			if ae := wantCode(t, err, account.EINVALID); ae.Message != auth.MsgWrongPassword {
				t.Fatalf("message %q", ae.Message)
			}
			if err := verify(oldPW); err != nil {
				t.Fatalf("password changed: %v", err)
			}
		})

		t.Run("PolicyViolation", func(t *testing.T) {
			_, err := e.svc.ChangePassword(ctx, fresh, u.ID, profile.PasswordChange{Password: "short"})
			// Endurain answers a weak password with a 422 naming the field.
			if ae := wantCode(t, err, account.EUNPROCESSABLE); len(ae.Fields) != 1 || ae.Fields[0].Field != "password" || ae.Fields[0].Message != account.PasswordPolicy {
				t.Fatalf("fields %+v", ae.Fields)
			}
		})

		t.Run("WithCurrentPasswordOnStaleSession", func(t *testing.T) {
			revoked, err := e.svc.ChangePassword(ctx, stale, u.ID, profile.PasswordChange{Password: newPW, CurrentPassword: strp(oldPW)})
			if err != nil {
				t.Fatal(err)
			}
			if revoked != 3 {
				t.Fatalf("revoked %d sessions, want 3", revoked)
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
			u := e.findUser(t, u.ID)
			revoked, err := e.svc.ChangePassword(ctx, e.caller(u, "fresh2", e.clock.Now().Add(-time.Minute)), u.ID, profile.PasswordChange{Password: oldPW})
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
			_, err := e.svc.ChangePassword(ctx, e.caller(sso, "x", now.Add(-time.Hour)), sso.ID, profile.PasswordChange{Password: newPW, CurrentPassword: strp("anything")})
			wantCode(t, err, account.EINVALID)
		})

		t.Run("GuessesShareTheStepUpBudget", func(t *testing.T) {
			// The password change and POST /profile/reauth count on one key:
			// guesses through both together lock the account's step-up.
			g := e.user(t, "guessed", oldPW)
			c := e.caller(g, "g", now.Add(-time.Hour))
			for i := 0; i < auth.PasswordLockout.Threshold/2; i++ {
				if err := e.auth.ConfirmPassword(ctx, c, "wrong"); account.ErrorCode(err) != account.EINVALID {
					t.Fatalf("step-up guess %d: %v", i, err)
				}
			}
			var err error
			for i := 0; i < auth.PasswordLockout.Threshold; i++ {
				if _, err = e.svc.ChangePassword(ctx, c, g.ID, profile.PasswordChange{Password: newPW, CurrentPassword: strp("wrong")}); account.ErrorCode(err) == account.ETOOMANY {
					break
				}
			}
			wantCode(t, err, account.ETOOMANY)
			// Locked: even the right password is refused now.
			_, err = e.svc.ChangePassword(ctx, c, g.ID, profile.PasswordChange{Password: newPW, CurrentPassword: strp(oldPW)})
			wantCode(t, err, account.ETOOMANY)
		})
	})
}
