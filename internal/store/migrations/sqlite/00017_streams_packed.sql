-- +goose Up
-- PostgreSQL's stream samples become zstd-compressed bytea. SQLite needs no
-- migration: its TEXT column takes the compressed BLOBs (store/packed.go) and
-- keeps older text as it is. Kept so both engines count the same migrations.
SELECT 1;

-- +goose Down
SELECT 1;
