-- +goose Up
-- A version per user that changes, in the same transaction, with anything
-- GET /profile shows (see the PostgreSQL migration). SQLite has one writer at
-- a time, so plain triggers do.
CREATE TABLE user_versions (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    version INTEGER NOT NULL DEFAULT 0
);
INSERT INTO user_versions (user_id) SELECT id FROM users;

-- +goose StatementBegin
CREATE TRIGGER user_versions_add AFTER INSERT ON users BEGIN
    INSERT INTO user_versions (user_id) VALUES (NEW.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_versions_users AFTER UPDATE ON users BEGIN
    UPDATE user_versions SET version = version + 1 WHERE user_id = NEW.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_versions_privacy_insert AFTER INSERT ON users_privacy_settings BEGIN
    UPDATE user_versions SET version = version + 1 WHERE user_id = NEW.user_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_versions_privacy_update AFTER UPDATE ON users_privacy_settings BEGIN
    UPDATE user_versions SET version = version + 1 WHERE user_id = NEW.user_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_versions_privacy_delete AFTER DELETE ON users_privacy_settings BEGIN
    UPDATE user_versions SET version = version + 1 WHERE user_id = OLD.user_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_versions_integrations_insert AFTER INSERT ON users_integrations BEGIN
    UPDATE user_versions SET version = version + 1 WHERE user_id = NEW.user_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_versions_integrations_update AFTER UPDATE ON users_integrations BEGIN
    UPDATE user_versions SET version = version + 1 WHERE user_id = NEW.user_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_versions_integrations_delete AFTER DELETE ON users_integrations BEGIN
    UPDATE user_versions SET version = version + 1 WHERE user_id = OLD.user_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_versions_mfa_insert AFTER INSERT ON mfa_factors BEGIN
    UPDATE user_versions SET version = version + 1 WHERE user_id = NEW.user_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_versions_mfa_update AFTER UPDATE ON mfa_factors BEGIN
    UPDATE user_versions SET version = version + 1 WHERE user_id = NEW.user_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_versions_mfa_delete AFTER DELETE ON mfa_factors BEGIN
    UPDATE user_versions SET version = version + 1 WHERE user_id = OLD.user_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER user_versions_add;
DROP TRIGGER user_versions_users;
DROP TRIGGER user_versions_privacy_insert;
DROP TRIGGER user_versions_privacy_update;
DROP TRIGGER user_versions_privacy_delete;
DROP TRIGGER user_versions_integrations_insert;
DROP TRIGGER user_versions_integrations_update;
DROP TRIGGER user_versions_integrations_delete;
DROP TRIGGER user_versions_mfa_insert;
DROP TRIGGER user_versions_mfa_update;
DROP TRIGGER user_versions_mfa_delete;
DROP TABLE user_versions;
