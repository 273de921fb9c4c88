-- +goose Up
-- PostgreSQL's stream samples change from jsonb to json (text kept as sent);
-- SQLite has always stored them as TEXT. Kept so both engines count the same
-- migrations.
SELECT 1;

-- +goose Down
SELECT 1;
