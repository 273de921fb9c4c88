-- +goose Up
-- PostgreSQL widens media_path to VARCHAR(300) for the uploader's own file
-- names; SQLite does not enforce VARCHAR lengths, so nothing changes here.
SELECT 1;
