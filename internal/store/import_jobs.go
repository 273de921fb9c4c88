package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/portability"
)

// jsonText passes JSON as text, NULL when empty; PostgreSQL casts it to jsonb.
func jsonText(m json.RawMessage) any {
	if len(m) == 0 {
		return nil
	}
	return string(m)
}

// CreateImportJob inserts j, its heartbeat starting at j.UpdatedAt. A second
// queued or running job for the same user breaks a unique index: ECONFLICT,
// whichever instance runs the first.
func (s *Store) CreateImportJob(ctx context.Context, j *portability.Job) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO import_jobs (id, user_id, status, stage, progress, result, error,
		created_at, updated_at, expires_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9, $10)`,
		j.ID, j.UserID, j.Status, j.Stage, jsonText(j.Progress), jsonText(j.Result), s.ts(j.CreatedAt),
		s.ts(j.UpdatedAt), s.ts(j.ExpiresAt), s.ts(j.UpdatedAt))
	if err != nil {
		err = mapErr(err)
		if account.ErrorCode(err) == account.ECONFLICT {
			return account.Errorf(account.ECONFLICT, "An import is already running for this account; wait for it to finish, then try again.")
		}
		return fmt.Errorf("create import job: %w", err)
	}
	return nil
}

// HeartbeatImportJob records that the job's process is alive.
func (s *Store) HeartbeatImportJob(ctx context.Context, id string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE import_jobs SET heartbeat_at = $1
		WHERE id = $2 AND status IN ('queued', 'running', 'committed')`, s.ts(now), id)
	if err != nil {
		return fmt.Errorf("import job heartbeat: %w", mapErr(err))
	}
	return nil
}

// ClaimStaleImportJob takes over a job in status whose heartbeat is not later
// than before: a queued or running job is marked failed with errText, a
// committed one gets a fresh heartbeat (now) while it is rolled forward. It
// reports false when the job changed or beat meanwhile, so two instances never
// recover the same job and a live job is never touched.
func (s *Store) ClaimStaleImportJob(ctx context.Context, id, status string, before, now time.Time, errText string) (bool, error) {
	q := `UPDATE import_jobs SET heartbeat_at = $1 WHERE id = $2 AND status = $3 AND heartbeat_at <= $4`
	args := []any{s.ts(now), id, status, s.ts(before)}
	if status != portability.JobCommitted {
		q = `UPDATE import_jobs SET status = $5, stage = $6, error = $7, updated_at = $1
			WHERE id = $2 AND status = $3 AND heartbeat_at <= $4`
		args = append(args, portability.JobFailed, portability.StageDone, errText)
	}
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("claim import job: %w", mapErr(err))
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ActiveImportJob reports whether job id exists and is queued, running or
// committed (its staging folder may still be needed).
func (s *Store) ActiveImportJob(ctx context.Context, id string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM import_jobs WHERE id = $1
		AND status IN ('queued', 'running', 'committed')`, id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("find import job: %w", mapErr(err))
	}
	return n > 0, nil
}

// UpdateImportJob sets a running job's status, stage and progress.
func (s *Store) UpdateImportJob(ctx context.Context, id, status, stage string, progress json.RawMessage, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE import_jobs SET status = $1, stage = $2, progress = $3, updated_at = $4
		WHERE id = $5 AND status IN ('queued', 'running')`, status, stage, jsonText(progress), s.ts(now), id)
	if err != nil {
		return fmt.Errorf("update import job: %w", mapErr(err))
	}
	return nil
}

// FinishImportJob sets a job's final status, result and error.
func (s *Store) FinishImportJob(ctx context.Context, id, status string, result json.RawMessage, errText string, now time.Time) error {
	var e any
	if errText != "" {
		e = errText
	}
	_, err := s.db.ExecContext(ctx, `UPDATE import_jobs SET status = $1, stage = $2, result = $3, error = $4,
		updated_at = $5 WHERE id = $6`, status, portability.StageDone, jsonText(result), e, s.ts(now), id)
	if err != nil {
		return fmt.Errorf("finish import job: %w", mapErr(err))
	}
	return nil
}

const jobColumns = `id, user_id, status, stage, progress, result, error, created_at, updated_at, expires_at`

func scanJob(sc interface{ Scan(...any) error }) (*portability.Job, error) {
	var j portability.Job
	var progress, result, errText sql.NullString
	if err := sc.Scan(&j.ID, &j.UserID, &j.Status, &j.Stage, &progress, &result, &errText,
		scanTime(&j.CreatedAt), scanTime(&j.UpdatedAt), scanTime(&j.ExpiresAt)); err != nil {
		return nil, err
	}
	if progress.Valid {
		j.Progress = json.RawMessage(progress.String)
	}
	if result.Valid {
		j.Result = json.RawMessage(result.String)
	}
	j.Error = errText.String
	return &j, nil
}

// ImportJob returns the user's job.
func (s *Store) ImportJob(ctx context.Context, userID int64, id string) (*portability.Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM import_jobs WHERE id = $1 AND user_id = $2`, id, userID))
	if err != nil {
		return nil, notFound(err, "Import job not found")
	}
	return j, nil
}

// ImportJobsByStatus lists jobs in status whose heartbeat is not later than
// before.
func (s *Store) ImportJobsByStatus(ctx context.Context, status string, before time.Time) ([]*portability.Job, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+jobColumns+` FROM import_jobs WHERE status = $1 AND heartbeat_at <= $2
		ORDER BY created_at`, status, s.ts(before))
	if err != nil {
		return nil, fmt.Errorf("list import jobs: %w", mapErr(err))
	}
	defer rows.Close()
	var out []*portability.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, mapErr(rows.Err())
}

// DeleteExpiredImportJobs deletes finished jobs past their expiry.
func (s *Store) DeleteExpiredImportJobs(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM import_jobs WHERE expires_at < $1 AND status IN ($2, $3)`,
		s.ts(now), portability.JobSucceeded, portability.JobFailed)
	if err != nil {
		return 0, fmt.Errorf("delete expired import jobs: %w", mapErr(err))
	}
	n, _ := res.RowsAffected()
	return n, nil
}
