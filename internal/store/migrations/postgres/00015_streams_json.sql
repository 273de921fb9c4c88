-- +goose Up
-- Stream samples are stored and returned whole, never queried inside. json
-- keeps the text as sent (and checks it); jsonb re-encoded every sample, which
-- was most of an import's transaction on PostgreSQL (about 1.5 s per 1,000
-- activities of one-second streams) and re-ordered what the export gives back.
ALTER TABLE activity_streams ALTER COLUMN stream_waypoints TYPE JSON USING stream_waypoints::json;

-- +goose Down
ALTER TABLE activity_streams ALTER COLUMN stream_waypoints TYPE JSONB USING stream_waypoints::jsonb;
