-- +goose Up
-- TOAST compresses each stream's samples (about 100 KB of JSON per activity)
-- inside the import's transaction. pglz took about 0.4 s of the server per
-- 1,000 activities more than lz4 (PostgreSQL 15, this project's machine).
-- Older values stay as they are: PostgreSQL reads both. A server built
-- without lz4 keeps pglz rather than fail the migration.
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE 'ALTER TABLE activity_streams ALTER COLUMN stream_waypoints SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available: stream samples stay pglz-compressed';
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE 'ALTER TABLE activity_streams ALTER COLUMN stream_waypoints SET COMPRESSION pglz';
EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
    NULL;
END
$$;
-- +goose StatementEnd
