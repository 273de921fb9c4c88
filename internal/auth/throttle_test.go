package auth_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

func TestThrottle(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := testkit.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		th := &auth.Throttle{Store: s, Now: clock.Now}

		t.Run("Limit", func(t *testing.T) {
			rl := auth.RateLimit{Requests: 3, Window: time.Minute}
			for i := 0; i < 3; i++ {
				if err := th.Limit(ctx, "ip:a", rl); err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
			}
			err := th.Limit(ctx, "ip:a", rl)
			var e *account.Error
			if !asErr(err, &e) || e.Code != account.ETOOMANY || e.RetryAfter < 1 || e.RetryAfter > 60 {
				t.Fatalf("4th request: %v, want ETOOMANY with Retry-After in (0, 60]", err)
			}
			if err := th.Limit(ctx, "ip:b", rl); err != nil {
				t.Fatalf("other key limited: %v", err)
			}
			clock.Advance(61 * time.Second)
			if err := th.Limit(ctx, "ip:a", rl); err != nil {
				t.Fatalf("after the window: %v", err)
			}
		})

		t.Run("Lockout", func(t *testing.T) {
			p := auth.LockoutPolicy{Threshold: 5, Base: 15 * time.Minute, Max: time.Hour, Memory: 24 * time.Hour}
			for i := 0; i < 5; i++ {
				if err := th.Attempt(ctx, "user:1", p); err != nil {
					t.Fatalf("attempt %d: %v", i+1, err)
				}
			}
			err := th.Attempt(ctx, "user:1", p)
			var e *account.Error
			if !asErr(err, &e) || e.Code != account.ETOOMANY || e.RetryAfter != 900 {
				t.Fatalf("6th attempt: %v, want a 900 s lock", err)
			}
			clock.Advance(10 * time.Minute)
			if err := th.Attempt(ctx, "user:1", p); !asErr(err, &e) || e.RetryAfter != 300 {
				t.Fatalf("during the lock: %v", err)
			}
			clock.Advance(6 * time.Minute)
			if err := th.Attempt(ctx, "user:1", p); err != nil {
				t.Fatalf("after the lock: %v", err)
			}
			// The next lock doubles.
			for i := 0; i < 4; i++ {
				th.Attempt(ctx, "user:1", p)
			}
			if err := th.Attempt(ctx, "user:1", p); !asErr(err, &e) || e.RetryAfter != 1800 {
				t.Fatalf("second lock: %v, want 1800 s", err)
			}
			// A success (after the lock) forgets everything.
			clock.Advance(31 * time.Minute)
			if err := th.Succeeded(ctx, "user:1"); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 5; i++ {
				if err := th.Attempt(ctx, "user:1", p); err != nil {
					t.Fatalf("after reset, attempt %d: %v", i+1, err)
				}
			}
		})

		t.Run("ConcurrentAttemptsCannotPassThreshold", func(t *testing.T) {
			p := auth.LockoutPolicy{Threshold: 5, Base: time.Minute, Max: time.Hour, Memory: time.Hour}
			var ok atomic.Int32
			var wg sync.WaitGroup
			for i := 0; i < 40; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if th.Attempt(ctx, "user:race", p) == nil {
						ok.Add(1)
					}
				}()
			}
			wg.Wait()
			if ok.Load() != 5 {
				t.Fatalf("%d of 40 concurrent attempts allowed, want exactly 5", ok.Load())
			}
		})
	})
}

func asErr(err error, target **account.Error) bool {
	e, ok := err.(*account.Error)
	if ok {
		*target = e
	}
	return ok
}
