package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/fitness"
)

var _ fitness.NotificationStore = (*Store)(nil)

// CountNotifications counts a user's notifications.
func (s *Store) CountNotifications(ctx context.Context, userID int64) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE user_id = $1`, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count notifications: %w", mapErr(err))
	}
	return n, nil
}

// ListNotifications returns a page of a user's notifications, newest first.
func (s *Store) ListNotifications(ctx context.Context, userID int64, offset, limit int) ([]*fitness.Notification, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, user_id, type, options, read, created_at FROM notifications
		WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`, userID, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", mapErr(err))
	}
	defer rows.Close()
	out := []*fitness.Notification{}
	for rows.Next() {
		n := &fitness.Notification{}
		var opts *string
		if err := rows.Scan(&n.ID, &n.UserID, &n.Type, &opts, &n.Read, scanTime(&n.CreatedAt)); err != nil {
			return nil, fmt.Errorf("scan notification: %w", err)
		}
		if opts != nil {
			n.Options = json.RawMessage(*opts)
		}
		out = append(out, n)
	}
	return out, mapErr(rows.Err())
}

// MarkNotificationRead marks one of the user's notifications read.
func (s *Store) MarkNotificationRead(ctx context.Context, userID, id int64) error {
	ok, err := s.affected(s.db.ExecContext(ctx, `UPDATE notifications SET read = TRUE WHERE id = $1 AND user_id = $2`, id, userID))
	if err != nil {
		return err
	}
	if !ok {
		return account.Errorf(account.ENOTFOUND, "Notification %d not found", id)
	}
	return nil
}
