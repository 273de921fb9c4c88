-- +goose Up
-- credential_version counts password writes; a sign-in must still hold the
-- version it checked when its session is inserted, so none outlives its password.
ALTER TABLE users ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 0;
-- A pending MFA sign-in remembers the version and the address of its password
-- step (a mobile client may finish it from that address without the ticket),
-- and a claim lease so one verification at a time can spend a code on it.
ALTER TABLE login_tickets ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE login_tickets ADD COLUMN ip_address VARCHAR(45) NOT NULL DEFAULT '';
ALTER TABLE login_tickets ADD COLUMN claim_token VARCHAR(64);
ALTER TABLE login_tickets ADD COLUMN claimed_until TEXT;
CREATE INDEX login_tickets_username ON login_tickets(username);
-- A rotated refresh token names its successor and the seed the successor's
-- tokens were derived from, so the grace use hands out the same successor
-- instead of starting a second chain.
ALTER TABLE session_tokens ADD COLUMN successor_hash VARCHAR(64);
ALTER TABLE session_tokens ADD COLUMN successor_seed VARCHAR(64);
