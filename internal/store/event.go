package store

import (
	"context"
	"encoding/json"
	"fmt"

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
	ua := e.UserAgent
	if len(ua) > 500 {
		ua = ua[:500]
	}
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
	rows, err := s.db.QueryContext(ctx, `SELECT id, user_id, type, COALESCE(ip_address, ''), COALESCE(user_agent, ''), detail, created_at
		FROM security_events WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, userID, limit)
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
