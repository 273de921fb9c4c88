-- +goose Up
-- A running import writes heartbeat_at every few seconds; every instance's
-- recovery loop treats a job whose heartbeat stopped as dead.
ALTER TABLE import_jobs ADD COLUMN heartbeat_at TEXT;
UPDATE import_jobs SET heartbeat_at = updated_at;
-- Crashes before this migration could leave several jobs "running" for one
-- user; keep the newest active (recovery decides its fate), fail the others
-- (recovery removes their staged files), so the index below can hold.
UPDATE import_jobs SET status = 'failed', stage = 'done',
    error = 'The import was interrupted; nothing was imported.'
WHERE status IN ('queued', 'running') AND id <> (
    SELECT j.id FROM import_jobs j
    WHERE j.user_id = import_jobs.user_id AND j.status IN ('queued', 'running')
    ORDER BY j.created_at DESC, j.id LIMIT 1);
-- At most one running import per user, across every instance.
CREATE UNIQUE INDEX import_jobs_one_running ON import_jobs(user_id) WHERE status IN ('queued', 'running');

-- Server-wide settings; key_check holds a known text sealed with the master
-- key, so an instance started with another key refuses to start.
CREATE TABLE server_meta (
    name       VARCHAR(64) PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
