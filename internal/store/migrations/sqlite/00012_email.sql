-- +goose Up
-- mail_outbox holds every message trailpass will send, written in the same
-- transaction as the change that causes it. body is sealed with the master key
-- (it may carry a reset or verification link). A sender claims a row by setting
-- claim_token and claimed_until (a lease); sent_at marks delivery, failed_at a
-- message given up on. Delivered and failed rows are pruned later.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            VARCHAR(64) NOT NULL,
    recipient       VARCHAR(250) NOT NULL,
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claim_token     VARCHAR(64),
    claimed_until   TEXT,
    last_error      VARCHAR(500),
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    failed_at       TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox(next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

-- Password reset and sign-up verification tokens: only a SHA-256 of the token.
CREATE TABLE password_reset_tokens (
    token_hash VARCHAR(64) PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX password_reset_tokens_user ON password_reset_tokens(user_id);
CREATE TABLE sign_up_tokens (
    token_hash VARCHAR(64) PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX sign_up_tokens_user ON sign_up_tokens(user_id);

-- Devices (type, OS, browser) an account has signed in from, for the
-- new-device notice; device_key is a hash of the three.
CREATE TABLE known_devices (
    user_id       BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_key    VARCHAR(64) NOT NULL,
    first_seen_at TEXT NOT NULL,
    PRIMARY KEY (user_id, device_key)
);

-- Per-user notice preferences; no row means the defaults (every notice on).
CREATE TABLE notice_settings (
    user_id     BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    new_sign_in BOOLEAN NOT NULL DEFAULT TRUE
);

-- Accounts created by sign-up, and whether their email had to be verified:
-- an account that signed up while verification was off can be approved
-- without a verified email.
CREATE TABLE sign_ups (
    user_id         BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    verify_required BOOLEAN NOT NULL,
    created_at      TEXT NOT NULL
);
