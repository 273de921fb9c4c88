package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/trailpass/trailpass/internal/auth"
)

// ThrottleAttempt atomically counts one attempt on key and returns the state, so
// that concurrent attempts (on any instance) each see a distinct count. A counter
// whose reset time has passed starts again at 1. While the key is locked, attempts
// are not counted. slide moves the reset time to now+ttl on every attempt (idle
// expiry, for failure counters); otherwise the window is fixed at its first
// attempt (for rate limits).
func (s *Store) ThrottleAttempt(ctx context.Context, key string, now time.Time, ttl time.Duration, slide bool) (auth.ThrottleState, error) {
	var st auth.ThrottleState
	n, reset := s.ts(now), s.ts(now.Add(ttl))
	err := s.db.QueryRowContext(ctx, `
		INSERT INTO throttle_counters (key, count, window_start, lock_level, expires_at) VALUES ($1, 1, $2, 0, $3)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN throttle_counters.expires_at <= $2 THEN 1
				WHEN throttle_counters.locked_until > $2 THEN throttle_counters.count
				ELSE throttle_counters.count + 1 END,
			lock_level = CASE WHEN throttle_counters.expires_at <= $2 THEN 0 ELSE throttle_counters.lock_level END,
			locked_until = CASE WHEN throttle_counters.expires_at <= $2 THEN NULL ELSE throttle_counters.locked_until END,
			window_start = CASE WHEN throttle_counters.expires_at <= $2 THEN $2 ELSE throttle_counters.window_start END,
			expires_at = CASE WHEN throttle_counters.expires_at <= $2 OR $4 THEN $3 ELSE throttle_counters.expires_at END
		RETURNING count, lock_level, locked_until, expires_at`, key, n, reset, slide).
		Scan(&st.Count, &st.Level, nullTime{&st.LockedUntil}, scanTime(&st.ResetAt))
	if err != nil {
		return st, fmt.Errorf("throttle attempt: %w", mapErr(err))
	}
	if st.LockedUntil != nil && !st.LockedUntil.After(now) {
		st.LockedUntil = nil
	}
	return st, nil
}

// ThrottlePeek returns key's counter without counting; found is false when the
// key has no live counter. It only reads, so refusing a client that is already
// over a limit writes nothing.
func (s *Store) ThrottlePeek(ctx context.Context, key string, now time.Time) (st auth.ThrottleState, found bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT count, lock_level, locked_until, expires_at FROM throttle_counters
		WHERE key = $1 AND expires_at > $2`, key, s.ts(now)).
		Scan(&st.Count, &st.Level, nullTime{&st.LockedUntil}, scanTime(&st.ResetAt))
	if errors.Is(err, sql.ErrNoRows) {
		return st, false, nil
	} else if err != nil {
		return st, false, fmt.Errorf("throttle peek: %w", mapErr(err))
	}
	if st.LockedUntil != nil && !st.LockedUntil.After(now) {
		st.LockedUntil = nil
	}
	return st, true, nil
}

// ThrottleLock locks key until until, clears its count and raises its level, unless
// it is already locked: of several concurrent requests that cross the threshold,
// one locks. keepUntil is how long the level is remembered after the lock ends.
func (s *Store) ThrottleLock(ctx context.Context, key string, now, until, keepUntil time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE throttle_counters
		SET count = 0, lock_level = lock_level + 1, locked_until = $2, expires_at = $3
		WHERE key = $1 AND (locked_until IS NULL OR locked_until <= $4)`,
		key, s.ts(until), s.ts(keepUntil), s.ts(now))
	if err != nil {
		return fmt.Errorf("throttle lock: %w", mapErr(err))
	}
	return nil
}

// ThrottleLockedUntil returns when key's lock ends, or nil when it is not locked.
func (s *Store) ThrottleLockedUntil(ctx context.Context, key string, now time.Time) (*time.Time, error) {
	var until *time.Time
	err := s.db.QueryRowContext(ctx, `SELECT locked_until FROM throttle_counters WHERE key = $1 AND locked_until > $2`,
		key, s.ts(now)).Scan(nullTime{&until})
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, fmt.Errorf("throttle lookup: %w", mapErr(err))
	}
	return until, nil
}

// ThrottleReset forgets key entirely (after a success).
func (s *Store) ThrottleReset(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM throttle_counters WHERE key = $1`, key); err != nil {
		return fmt.Errorf("throttle reset: %w", mapErr(err))
	}
	return nil
}
