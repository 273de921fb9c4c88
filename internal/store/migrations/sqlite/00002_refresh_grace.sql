-- +goose Up
-- A refresh token rotated away may be presented once more within a few seconds
-- (two tabs refreshing together); grace_used_at makes that second chance
-- single-use, so a replayed token cannot start a parallel chain.
ALTER TABLE session_tokens ADD COLUMN grace_used_at TEXT;
