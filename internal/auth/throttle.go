package auth

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/profile"
)

// ThrottleState is a counter's state after an attempt.
type ThrottleState struct {
	Count       int
	Level       int        // how many times the key was locked since its last reset
	LockedUntil *time.Time // set while the key is locked
	ResetAt     time.Time  // when the counter starts again from zero
}

// ThrottleStore keeps counters in the database, so limits hold across instances.
type ThrottleStore interface {
	ThrottleAttempt(ctx context.Context, key string, now time.Time, ttl time.Duration, slide bool) (ThrottleState, error)
	// ThrottlePeek reads key's live counter without counting.
	ThrottlePeek(ctx context.Context, key string, now time.Time) (st ThrottleState, found bool, err error)
	ThrottleLock(ctx context.Context, key string, now, until, keepUntil time.Time) error
	ThrottleReset(ctx context.Context, key string) error
}

// LockoutPolicy describes a consecutive-failure lockout: after Threshold attempts
// without a success the key is locked for Base, doubling with each further lock up
// to Max. The count is forgotten after Memory without attempts.
type LockoutPolicy struct {
	Threshold int
	Base, Max time.Duration
	Memory    time.Duration
}

// Lock policies. MFA codes are 6 digits, so guesses must stay few: with 5 tries per
// lock and locks of 15 min doubling up to 24 h, an attacker gets about 35 guesses in
// the first day and 5 a day after, far under NIST 800-63B §5.2.2's 100.
// Passwords lock per account only briefly (at most 15 minutes), so that failures
// sent from many addresses cannot keep the real user out for long; the per-address
// rate limits do the rest.
var (
	MFALockout      = LockoutPolicy{Threshold: 5, Base: 15 * time.Minute, Max: 24 * time.Hour, Memory: 24 * time.Hour}
	PasswordLockout = LockoutPolicy{Threshold: 10, Base: time.Minute, Max: 15 * time.Minute, Memory: time.Hour}
)

// Rate limits per client address, as (requests, window).
type RateLimit struct {
	Requests int
	Window   time.Duration
}

// Per-address rate limits on the authentication routes.
var (
	LoginRate   = RateLimit{Requests: 10, Window: time.Minute}
	MFARate     = RateLimit{Requests: 10, Window: time.Minute}
	RefreshRate = RateLimit{Requests: 60, Window: time.Minute}
	// LookupRate bounds username and email look-ups, per user and per address.
	LookupRate = RateLimit{Requests: 30, Window: time.Minute}
)

// Limiter adapts the throttle to profile.RateLimiter with the limit rl.
func (t *Throttle) Limiter(rl RateLimit) profile.RateLimiter { return limiter{t, rl} }

type limiter struct {
	t  *Throttle
	rl RateLimit
}

func (l limiter) Limit(ctx context.Context, key string) error { return l.t.Limit(ctx, key, l.rl) }

// Throttle applies rate limits and lockouts. Failures return ETOOMANY with the
// number of seconds to wait.
type Throttle struct {
	Store ThrottleStore
	Now   func() time.Time
}

// Limit counts one request on key and fails once more than rl.Requests were made
// in the current window.
func (t *Throttle) Limit(ctx context.Context, key string, rl RateLimit) error {
	now := t.Now()
	st, err := t.Store.ThrottleAttempt(ctx, "rate:"+key, now, rl.Window, false)
	if err != nil {
		return err
	}
	if st.Count > rl.Requests {
		return tooMany(now, st.ResetAt)
	}
	return nil
}

// OverLimit reports, without counting, whether key has used up rl in the current
// window: a read that lets a client hammering past a limit be refused without a
// write. Limit still decides (and counts) for those that pass.
func (t *Throttle) OverLimit(ctx context.Context, key string, rl RateLimit) error {
	now := t.Now()
	st, found, err := t.Store.ThrottlePeek(ctx, "rate:"+key, now)
	if err != nil {
		return err
	}
	if found && st.Count >= rl.Requests {
		return tooMany(now, st.ResetAt)
	}
	return nil
}

// Attempt counts one attempt against key before it is checked, so that
// concurrent guesses cannot slip past the threshold. It fails while key is
// locked, and locks key when this attempt is one too many.
func (t *Throttle) Attempt(ctx context.Context, key string, p LockoutPolicy) error {
	now := t.Now()
	st, err := t.Store.ThrottleAttempt(ctx, "lock:"+key, now, p.Memory, true)
	if err != nil {
		return err
	}
	if st.LockedUntil != nil {
		return tooMany(now, *st.LockedUntil)
	}
	if st.Count > p.Threshold {
		d := time.Duration(float64(p.Base) * math.Pow(2, float64(st.Level)))
		if d > p.Max || d <= 0 {
			d = p.Max
		}
		until := now.Add(d)
		if err := t.Store.ThrottleLock(ctx, "lock:"+key, now, until, until.Add(p.Memory)); err != nil {
			return err
		}
		return tooMany(now, until)
	}
	return nil
}

// Succeeded forgets key's failures.
func (t *Throttle) Succeeded(ctx context.Context, key string) error {
	return t.Store.ThrottleReset(ctx, "lock:"+key)
}

func tooMany(now, until time.Time) error {
	secs := int(math.Ceil(until.Sub(now).Seconds()))
	if secs < 1 {
		secs = 1
	}
	return &account.Error{Code: account.ETOOMANY, RetryAfter: secs,
		Message: fmt.Sprintf("Too many requests. Please try again in %d seconds.", secs)}
}

// Hold lets one holder at a time have key, across instances: while another
// holds it, Hold fails with ETOOMANY (Retry-After: when the hold lapses). A hold
// lapses after ttl should its holder die before calling release.
func (t *Throttle) Hold(ctx context.Context, key string, ttl time.Duration) (release func(), err error) {
	now := t.Now()
	// A read first: while the key is held, refusing costs no write.
	if st, found, err := t.Store.ThrottlePeek(ctx, "hold:"+key, now); err != nil {
		return nil, err
	} else if found && st.Count >= 1 {
		return nil, tooMany(now, st.ResetAt)
	}
	st, err := t.Store.ThrottleAttempt(ctx, "hold:"+key, now, ttl, false)
	if err != nil {
		return nil, err
	}
	if st.Count > 1 {
		return nil, tooMany(now, st.ResetAt)
	}
	return func() {
		// The work is done even if the request was cancelled; free the key anyway.
		_ = t.Store.ThrottleReset(context.WithoutCancel(ctx), "hold:"+key)
	}, nil
}
