package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trailpass/trailpass/internal/profile"
)

var _ profile.SummaryStore = (*Store)(nil)

// AccountStats counts what a user's account holds: rows per kind, the span and
// months of its activities, and the keys of its stored files.
func (s *Store) AccountStats(ctx context.Context, userID int64) (*profile.AccountStats, error) {
	out := &profile.AccountStats{}
	c := &out.Counts
	var first, last sql.Null[string]
	var firstT, lastT sql.Null[time.Time]
	dest := []any{&c.Activities, &c.Laps, &c.Streams, &c.Gear, &c.Weights, &c.Goals, &c.Photos, &c.Files}
	if s.dialect == SQLite {
		dest = append(dest, &first, &last)
	} else {
		dest = append(dest, &firstT, &lastT)
	}
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM activities WHERE user_id = $1),
		(SELECT COUNT(*) FROM activity_laps l JOIN activities a ON a.id = l.activity_id WHERE a.user_id = $1),
		(SELECT COUNT(*) FROM activity_streams x JOIN activities a ON a.id = x.activity_id WHERE a.user_id = $1),
		(SELECT COUNT(*) FROM gear WHERE user_id = $1),
		(SELECT COUNT(*) FROM health_weight WHERE user_id = $1),
		(SELECT COUNT(*) FROM users_goals WHERE user_id = $1),
		(SELECT COUNT(*) FROM activity_media m JOIN activities a ON a.id = m.activity_id WHERE a.user_id = $1),
		(SELECT COUNT(*) FROM activities WHERE user_id = $1 AND file_key IS NOT NULL AND file_key <> ''),
		(SELECT MIN(start_time) FROM activities WHERE user_id = $1),
		(SELECT MAX(start_time) FROM activities WHERE user_id = $1)`, userID).Scan(dest...)
	if err != nil {
		return nil, fmt.Errorf("account counts: %w", mapErr(err))
	}
	parse := func(v sql.Null[string]) *time.Time {
		if !v.Valid {
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, v.V)
		if err != nil {
			return nil
		}
		return &t
	}
	if s.dialect == SQLite {
		out.FirstActivity, out.LastActivity = parse(first), parse(last)
	} else {
		if firstT.Valid {
			t := firstT.V.UTC()
			out.FirstActivity = &t
		}
		if lastT.Valid {
			t := lastT.V.UTC()
			out.LastActivity = &t
		}
	}

	// Months in UTC: SQLite holds fixed-width UTC text, PostgreSQL timestamptz.
	month := `substr(start_time, 1, 7)`
	if s.dialect == Postgres {
		month = `to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM')`
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+month+` AS m, COUNT(*) FROM activities WHERE user_id = $1 GROUP BY m ORDER BY m`, userID)
	if err != nil {
		return nil, fmt.Errorf("activities per month: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var m profile.MonthCount
		if err := rows.Scan(&m.Month, &m.Activities); err != nil {
			return nil, fmt.Errorf("scan month: %w", err)
		}
		out.PerMonth = append(out.PerMonth, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("activities per month: %w", mapErr(err))
	}
	rows.Close()

	keys, err := s.db.QueryContext(ctx, `SELECT file_key FROM activities WHERE user_id = $1 AND file_key IS NOT NULL AND file_key <> ''
		UNION ALL SELECT m.media_path FROM activity_media m JOIN activities a ON a.id = m.activity_id WHERE a.user_id = $1
		UNION ALL SELECT photo_path FROM users WHERE id = $1 AND photo_path IS NOT NULL AND photo_path <> ''`, userID)
	if err != nil {
		return nil, fmt.Errorf("account files: %w", mapErr(err))
	}
	defer keys.Close()
	for keys.Next() {
		var k string
		if err := keys.Scan(&k); err != nil {
			return nil, fmt.Errorf("scan file key: %w", err)
		}
		out.FileKeys = append(out.FileKeys, k)
	}
	return out, mapErr(keys.Err())
}
