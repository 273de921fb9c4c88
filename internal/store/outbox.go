package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/trailpass/trailpass/internal/account"
)

// insertMail queues msgs in tx, due at once: the epoch as the first attempt
// time makes a new row due whatever the senders' clocks say.
func (s *Store) insertMail(ctx context.Context, tx *sql.Tx, msgs []*account.OutboxMail) error {
	now := time.Now()
	for _, m := range msgs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mail_outbox (kind, recipient, body, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5)`,
			m.Kind, m.Recipient, m.Body, s.ts(time.Unix(0, 0)), s.ts(now)); err != nil {
			return fmt.Errorf("queue mail: %w", mapErr(err))
		}
	}
	return nil
}

// ClaimMail leases up to limit due messages to claim until leaseUntil and
// counts an attempt on each. A row is due when it is neither sent nor given up,
// its next attempt has come and no other sender holds an unexpired lease on
// it. On PostgreSQL, FOR UPDATE SKIP LOCKED lets instances claim side by side
// without waiting on or taking each other's rows; SQLite has one writer, which
// serialises the claims.
func (s *Store) ClaimMail(ctx context.Context, claim string, now, leaseUntil time.Time, limit int) ([]*account.OutboxRow, error) {
	sub := `SELECT id FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2
		AND (claimed_until IS NULL OR claimed_until <= $2) ORDER BY id LIMIT $3`
	if s.dialect == Postgres {
		sub += ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := s.db.QueryContext(ctx, `UPDATE mail_outbox SET claim_token = $1, claimed_until = $4, attempts = attempts + 1
		WHERE id IN (`+sub+`) RETURNING id, kind, recipient, body, attempts, created_at`,
		claim, s.ts(now), limit, s.ts(leaseUntil))
	if err != nil {
		return nil, fmt.Errorf("claim mail: %w", mapErr(err))
	}
	defer rows.Close()
	var out []*account.OutboxRow
	for rows.Next() {
		r := &account.OutboxRow{Claim: claim}
		if err := rows.Scan(&r.ID, &r.Kind, &r.Recipient, &r.Body, &r.Attempts, scanTime(&r.CreatedAt)); err != nil {
			return nil, fmt.Errorf("scan mail: %w", err)
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// ErrLeaseLost is returned when a sender no longer holds the claim on a row.
var ErrLeaseLost = account.ErrLeaseLost

func (s *Store) updateClaimed(ctx context.Context, q string, args ...any) error {
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("update mail: %w", mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// MarkMailSent records delivery of a claimed row.
func (s *Store) MarkMailSent(ctx context.Context, id int64, claim string, at time.Time) error {
	return s.updateClaimed(ctx, `UPDATE mail_outbox SET sent_at = $1, claim_token = NULL, claimed_until = NULL, last_error = NULL
		WHERE id = $2 AND claim_token = $3`, s.ts(at), id, claim)
}

// RetryMail releases a claimed row to be tried again at next.
func (s *Store) RetryMail(ctx context.Context, id int64, claim string, next time.Time, reason string) error {
	return s.updateClaimed(ctx, `UPDATE mail_outbox SET next_attempt_at = $1, claim_token = NULL, claimed_until = NULL, last_error = $2
		WHERE id = $3 AND claim_token = $4`, s.ts(next), clipText(reason, 500), id, claim)
}

// FailMail gives up on a claimed row.
func (s *Store) FailMail(ctx context.Context, id int64, claim string, at time.Time, reason string) error {
	return s.updateClaimed(ctx, `UPDATE mail_outbox SET failed_at = $1, claim_token = NULL, claimed_until = NULL, last_error = $2
		WHERE id = $3 AND claim_token = $4`, s.ts(at), clipText(reason, 500), id, claim)
}

// MailCounts returns how many messages wait, were sent and were given up, for
// metrics and tests.
func (s *Store) MailCounts(ctx context.Context) (pending, sent, failed int, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) FROM mail_outbox`).Scan(&pending, &sent, &failed)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("count mail: %w", mapErr(err))
	}
	return pending, sent, failed, nil
}

// PruneMail deletes messages delivered before sentBefore and messages given up
// before failedBefore.
func (s *Store) PruneMail(ctx context.Context, sentBefore, failedBefore time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM mail_outbox WHERE sent_at <= $1 OR failed_at <= $2`, s.ts(sentBefore), s.ts(failedBefore))
	if err != nil {
		return 0, fmt.Errorf("prune mail: %w", mapErr(err))
	}
	return res.RowsAffected()
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// QueueMail writes msgs to the outbox in a transaction of their own, for mail
// that follows no other write (a notice to administrators).
func (s *Store) QueueMail(ctx context.Context, msgs ...*account.OutboxMail) error {
	return s.withTx(account.WithoutMail(ctx), func(tx *sql.Tx) error { return s.insertMail(ctx, tx, msgs) })
}

// querier is what a statement needs: the pool or a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// errNoChange rolls back a transaction whose write changed nothing.
var errNoChange = errors.New("store: no change")

// withMail runs a single-statement write fn. Without mail on ctx it runs on
// the pool as before; with mail it runs in a transaction that queues the mail
// only when fn reports a change.
func (s *Store) withMail(ctx context.Context, fn func(q querier) (changed bool, err error)) error {
	if len(account.MailFrom(ctx)) == 0 {
		_, err := fn(s.db)
		return err
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		changed, err := fn(tx)
		if err == nil && !changed {
			return errNoChange
		}
		return err
	})
	if errors.Is(err, errNoChange) {
		return nil
	}
	return err
}
