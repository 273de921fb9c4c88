-- +goose Up
-- The raw User-Agent of a session, shown (shortened) when the browser and OS
-- cannot be recognised from it. NULL for sessions made before this column.
ALTER TABLE sessions ADD COLUMN user_agent VARCHAR(500);
-- The cleanup loop prunes security events older than the retention period.
CREATE INDEX security_events_created_at ON security_events(created_at);
