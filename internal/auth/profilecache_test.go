package auth_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/secret"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// signedIn creates a user named username with a privacy row, and a session
// whose access token is token, valid for an hour from now.
func signedIn(t *testing.T, st *store.Store, username, token string, now time.Time) (*account.User, *auth.Session) {
	t.Helper()
	ctx := context.Background()
	u := &account.User{Name: "Name 0", Username: username, Email: username + "@example.com", PreferredLanguage: "us",
		Gender: 1, Units: 1, AccessType: account.AccessRegular, Active: true, FirstDayOfWeek: 1, Currency: 1,
		CreatedAt: now, UpdatedAt: now}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	sess := &auth.Session{ID: username + "-session", UserID: u.ID, FamilyID: username + "-session", AuthMethod: "password",
		IPAddress: "127.0.0.1", DeviceType: "pc", OperatingSystem: "linux", Browser: "go",
		CreatedAt: now, AuthenticatedAt: now, LastActiveAt: now, ExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(time.Hour)}
	tokens := []auth.TokenRow{{Hash: secret.HashToken(token), SessionID: sess.ID, Kind: "access", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}}
	if err := st.CreateSession(ctx, sess, tokens, auth.SessionGuard{CredentialVersion: u.CredentialVersion}); err != nil {
		t.Fatal(err)
	}
	return u, sess
}

// sessionService is an auth.Service with what authenticating needs: sessions
// from sessions, the rest from st, and a clock stopped at now.
func sessionService(sessions auth.Store, st *store.Store, now time.Time) *auth.Service {
	return &auth.Service{Store: sessions, Users: st, Events: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return now }}
}

// readCounter is the real store, counting the two reads AuthenticateProfile
// chooses between.
type readCounter struct {
	*store.Store
	whole, check, plain atomic.Int32
}

func (c *readCounter) FindAccessSession(ctx context.Context, hash string, now time.Time) (*auth.Session, *account.User, error) {
	c.plain.Add(1)
	return c.Store.FindAccessSession(ctx, hash, now)
}

func (c *readCounter) FindAccessSessionProfile(ctx context.Context, hash string, now time.Time) (*auth.Session, *profile.Profile, int64, error) {
	c.whole.Add(1)
	return c.Store.FindAccessSessionProfile(ctx, hash, now)
}

func (c *readCounter) CheckAccessSession(ctx context.Context, hash string, now time.Time) (*auth.Session, int64, error) {
	c.check.Add(1)
	return c.Store.CheckAccessSession(ctx, hash, now)
}

// GET /profile's sign-in check keeps the profile between requests, and still
// answers every request as a fresh read would: changes written behind its back
// (plain SQL, as another instance or a command would) show on the next
// request, and a deactivation or a revocation refuses it.
func TestAuthenticateProfile_CacheFollowsTheDatabase(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		const token = "cache-test-access-token"
		u, sess := signedIn(t, st, "cached", token, now)
		rc := &readCounter{Store: st}
		svc := sessionService(rc, st, now)
		exec := func(q string) {
			t.Helper()
			if _, err := st.DB().ExecContext(ctx, q, u.ID); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		read := func(step string, wantWhole, wantCheck int32) *profile.Profile {
			t.Helper()
			p, prof, err := svc.AuthenticateProfile(ctx, token)
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			if p.User.ID != u.ID || p.Session.ID != sess.ID || prof.User.ID != u.ID {
				t.Fatalf("%s: principal %+v, profile user %+v", step, p, prof.User)
			}
			if w, c := rc.whole.Load(), rc.check.Load(); w != wantWhole || c != wantCheck {
				t.Fatalf("%s: %d whole reads and %d checks; want %d and %d", step, w, c, wantWhole, wantCheck)
			}
			return prof
		}
		refused := func(step string) {
			t.Helper()
			if _, _, err := svc.AuthenticateProfile(ctx, token); account.ErrorCode(err) != account.EUNAUTHORIZED {
				t.Fatalf("%s: %v, want EUNAUTHORIZED", step, err)
			}
		}

		read("first request", 1, 0)
		prof := read("second request, from the cache", 1, 1)
		if prof.User.Name != "Name 0" || prof.Privacy == nil {
			t.Fatalf("cached profile: %+v %+v", prof.User, prof.Privacy)
		}
		prof.User.Name, prof.Privacy.HideActivityMap = "changed by a handler", true
		if prof := read("third request", 1, 2); prof.User.Name != "Name 0" || prof.Privacy.HideActivityMap {
			t.Fatalf("a change to an answer reached the cache: %q %v", prof.User.Name, prof.Privacy.HideActivityMap)
		}

		for _, c := range []struct {
			what, q string
			check   func(*profile.Profile) bool
		}{
			{"name", `UPDATE users SET name = 'Renamed' WHERE id = $1`, func(p *profile.Profile) bool { return p.User.Name == "Renamed" }},
			{"privacy", `UPDATE users_privacy_settings SET hide_activity_map = TRUE WHERE user_id = $1`, func(p *profile.Profile) bool { return p.Privacy.HideActivityMap }},
			{"MFA", `INSERT INTO mfa_factors (user_id, type, secret_ciphertext, created_at) VALUES ($1, 'totp', 'sealed', '2026-01-01T00:00:00.000000Z')`,
				func(p *profile.Profile) bool { return p.Links.MFAEnabled }},
		} {
			exec(c.q)
			w, k := rc.whole.Load(), rc.check.Load()
			if prof := read(c.what+" changed behind the cache", w+1, k+1); !c.check(prof) {
				t.Fatalf("%s changed behind the cache, next answer %+v %+v %+v", c.what, prof.User, prof.Privacy, prof.Links)
			}
			read(c.what+" changed, then cached again", w+1, k+2)
		}

		// Other requests use the cached user the same way.
		w, k := rc.whole.Load(), rc.check.Load()
		if p, err := svc.Authenticate(ctx, token); err != nil || p.User.Name != "Renamed" || p.Session.ID != sess.ID {
			t.Fatalf("Authenticate from the cache: %+v %v", p, err)
		}
		if rc.whole.Load() != w || rc.check.Load() != k+1 || rc.plain.Load() != 0 {
			t.Fatalf("Authenticate from the cache: %d whole reads, %d checks, %d plain lookups", rc.whole.Load()-w, rc.check.Load()-k, rc.plain.Load())
		}
		// The session itself is read fresh on a hit: a step-up's new
		// authentication time counts at once.
		stepUp := now.Add(time.Minute)
		if _, err := st.DB().ExecContext(ctx, `UPDATE sessions SET authenticated_at = $1 WHERE id = $2`, sqlTime(st, stepUp), sess.ID); err != nil {
			t.Fatal(err)
		}
		if p, err := svc.Authenticate(ctx, token); err != nil || !p.Session.AuthenticatedAt.Equal(stepUp) || rc.check.Load() != k+2 {
			t.Fatalf("Authenticate after a step-up: %+v %v, %d checks", p, err, rc.check.Load()-k)
		}
		exec(`UPDATE users SET name = 'Renamed again' WHERE id = $1`)
		if p, err := svc.Authenticate(ctx, token); err != nil || p.User.Name != "Renamed again" || rc.plain.Load() != 1 {
			t.Fatalf("Authenticate after a change: %+v %v, %d plain lookups", p, err, rc.plain.Load())
		}

		exec(`UPDATE users SET active = FALSE WHERE id = $1`)
		refused("deactivated")
		exec(`UPDATE users SET active = TRUE WHERE id = $1`)
		w, k = rc.whole.Load(), rc.check.Load()
		read("active again", w+1, k)
		read("active again, cached", w+1, k+1)
		exec(`DELETE FROM sessions WHERE user_id = $1`)
		refused("revoked")
		if _, err := svc.Authenticate(ctx, token); account.ErrorCode(err) != account.EUNAUTHORIZED {
			t.Fatalf("Authenticate, revoked: %v, want EUNAUTHORIZED", err)
		}
	})
}

// sqlTime is t as the store writes it.
func sqlTime(st *store.Store, t time.Time) any {
	if st.Dialect() == store.SQLite {
		return t.UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	return t
}

// Concurrent requests share cached entries while the profile changes under
// them: each answer is one the database held, and each caller may change its
// own answer (the race detector watches the sharing).
func TestAuthenticateProfile_CacheUnderConcurrency(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		const token = "race-test-access-token"
		u, _ := signedIn(t, st, "racer", token, now)
		svc := sessionService(st, st, now)

		const writes = 20
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 50 {
					_, prof, err := svc.AuthenticateProfile(ctx, token)
					if err != nil {
						errs <- err
						return
					}
					if !strings.HasPrefix(prof.User.Name, "Name ") {
						errs <- fmt.Errorf("answer with name %q", prof.User.Name)
						return
					}
					prof.User.Name = "scribbled by a caller"
				}
			}()
		}
		for i := 1; i <= writes; i++ {
			if _, err := st.DB().ExecContext(ctx, `UPDATE users SET name = $1 WHERE id = $2`, fmt.Sprintf("Name %d", i), u.ID); err != nil {
				t.Fatal(err)
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if _, prof, err := svc.AuthenticateProfile(ctx, token); err != nil || prof.User.Name != fmt.Sprintf("Name %d", writes) {
			t.Fatalf("after the writes: %v %v", prof, err)
		}
	})
}
