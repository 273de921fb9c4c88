package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/trailpass/trailpass/internal/account"
)

var _ account.EventStore = (*Store)(nil)

// RecordSecurityEvent appends e to the security log and sets its id.
func (s *Store) RecordSecurityEvent(ctx context.Context, e *account.SecurityEvent) error {
	var detail *string
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return fmt.Errorf("encode event detail: %w", err)
		}
		d := string(b)
		detail = &d
	}
	ua := clipUserAgent(e.UserAgent)
	err := s.db.QueryRowContext(ctx, `INSERT INTO security_events (user_id, type, ip_address, user_agent, detail, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		e.UserID, e.Type, e.IPAddress, ua, detail, s.ts(e.CreatedAt)).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("record security event: %w", mapErr(err))
	}
	return nil
}

// ListSecurityEvents returns a user's most recent events, newest first.
func (s *Store) ListSecurityEvents(ctx context.Context, userID int64, limit int) ([]*account.SecurityEvent, error) {
	return s.listSecurityEvents(ctx, `SELECT id, user_id, type, COALESCE(ip_address, ''), COALESCE(user_agent, ''), detail, created_at
		FROM security_events WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, userID, limit)
}

// ListSecurityEventsBefore returns up to limit of a user's events with an id
// below before (0: from the newest), in the order they were recorded, newest
// first. Ids only grow, so the id is a stable cursor while events are added.
func (s *Store) ListSecurityEventsBefore(ctx context.Context, userID, before int64, limit int) ([]*account.SecurityEvent, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	return s.listSecurityEvents(ctx, `SELECT id, user_id, type, COALESCE(ip_address, ''), COALESCE(user_agent, ''), detail, created_at
		FROM security_events WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, userID, before, limit)
}

// LastSecurityEventBefore returns the user's newest event of type typ with an
// id below before, or ENOTFOUND.
func (s *Store) LastSecurityEventBefore(ctx context.Context, userID int64, typ string, before int64) (*account.SecurityEvent, error) {
	list, err := s.listSecurityEvents(ctx, `SELECT id, user_id, type, COALESCE(ip_address, ''), COALESCE(user_agent, ''), detail, created_at
		FROM security_events WHERE user_id = $1 AND type = $2 AND id < $3 ORDER BY id DESC LIMIT 1`, userID, typ, before)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, account.Errorf(account.ENOTFOUND, "Security event not found")
	}
	return list[0], nil
}

// DeleteSecurityEventsBefore deletes every event recorded before cutoff and
// returns how many: the retention limit, applied by the cleanup loop.
func (s *Store) DeleteSecurityEventsBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM security_events WHERE created_at < $1`, s.ts(cutoff))
	if err != nil {
		return 0, fmt.Errorf("delete old security events: %w", mapErr(err))
	}
	return res.RowsAffected()
}

func (s *Store) listSecurityEvents(ctx context.Context, query string, args ...any) ([]*account.SecurityEvent, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list security events: %w", mapErr(err))
	}
	defer rows.Close()
	var out []*account.SecurityEvent
	for rows.Next() {
		e := &account.SecurityEvent{}
		var detail *string
		if err := rows.Scan(&e.ID, &e.UserID, &e.Type, &e.IPAddress, &e.UserAgent, &detail, scanTime(&e.CreatedAt)); err != nil {
			return nil, fmt.Errorf("scan security event: %w", err)
		}
		if detail != nil {
			json.Unmarshal([]byte(*detail), &e.Detail)
		}
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

// clipUserAgent keeps a User-Agent within its 500-character columns, on a
// character boundary.
func clipUserAgent(ua string) string {
	if len(ua) <= 500 {
		return ua
	}
	ua = ua[:500]
	for len(ua) > 0 && !utf8.ValidString(ua) {
		ua = ua[:len(ua)-1]
	}
	return ua
}
