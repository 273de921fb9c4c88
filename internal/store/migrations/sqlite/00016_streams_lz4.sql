-- +goose Up
-- PostgreSQL compresses stream samples with lz4; SQLite does not compress.
-- Kept so both engines count the same migrations.
SELECT 1;

-- +goose Down
SELECT 1;
