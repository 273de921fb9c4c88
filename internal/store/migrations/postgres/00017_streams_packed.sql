-- +goose Up
-- Stream samples, most of an account's bytes, are kept zstd-compressed as on
-- SQLite (store/packed.go), compressed by the import before its transaction.
-- As json text, PostgreSQL parsed, compressed and wrote about 67 MB per 1,000
-- activities inside that transaction (0.8 s of it on this project's machine,
-- 8.7 s for 10,000), and every sign-in's commit waited behind that WAL.
-- Existing values become their text's bytes, which read as they are (and
-- which TOAST still compresses; on packed values lz4 gives up at once).
-- Nothing queries inside the samples.
ALTER TABLE activity_streams ALTER COLUMN stream_waypoints TYPE BYTEA USING convert_to(stream_waypoints::text, 'UTF8');

-- +goose Down
-- Packed values cannot be turned back into json here: export the accounts
-- with this version, migrate down, and import them again.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM activity_streams WHERE substring(stream_waypoints FROM 1 FOR 4) = '\x28b52ffd'::bytea) THEN
        RAISE EXCEPTION 'stream samples are zstd-compressed: export the accounts before migrating down';
    END IF;
END
$$;
-- +goose StatementEnd
ALTER TABLE activity_streams ALTER COLUMN stream_waypoints TYPE JSON USING convert_from(stream_waypoints, 'UTF8')::json;
