-- +goose Up
-- The WebAuthn user handle: random, never the user id, so an authenticator's
-- list of accounts reveals nothing about this server's users.
CREATE TABLE webauthn_users (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    handle  BLOB NOT NULL UNIQUE
);

-- Registered passkeys. The public key is not a secret, but it and the
-- credential id stay in this table: never in responses or exports.
CREATE TABLE passkeys (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id          BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id    BLOB NOT NULL UNIQUE,
    public_key       BLOB NOT NULL,
    attestation_type VARCHAR(32) NOT NULL DEFAULT '',
    aaguid           BLOB,
    sign_count       BIGINT NOT NULL DEFAULT 0,
    transports       VARCHAR(200) NOT NULL DEFAULT '',
    user_verified    BOOLEAN NOT NULL DEFAULT FALSE,
    backup_eligible  BOOLEAN NOT NULL DEFAULT FALSE,
    backup_state     BOOLEAN NOT NULL DEFAULT FALSE,
    name             VARCHAR(64) NOT NULL,
    created_at       TEXT NOT NULL,
    last_used_at     TEXT
);
CREATE INDEX passkeys_user_id ON passkeys(user_id);

-- Pending WebAuthn ceremonies, keyed by the challenge's hash: any instance
-- finishes what another began, and finishing deletes the row (single use).
-- binding is the session or sign-in ticket the ceremony belongs to.
CREATE TABLE webauthn_challenges (
    challenge_hash VARCHAR(64) PRIMARY KEY,
    purpose        VARCHAR(16) NOT NULL,
    user_id        BIGINT REFERENCES users(id) ON DELETE CASCADE,
    binding        VARCHAR(64) NOT NULL DEFAULT '',
    session_data   TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL
);
CREATE INDEX webauthn_challenges_expires_at ON webauthn_challenges(expires_at);
