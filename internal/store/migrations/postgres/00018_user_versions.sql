-- +goose Up
-- A version per user that changes, in the same transaction, with anything
-- GET /profile shows: the user row, privacy settings, integrations and MFA
-- factors. The authenticated read keeps the profile between requests and
-- uses it only while this number, read with the session on every request, is
-- unchanged (auth.Service.AuthenticateProfile), so a change made by any
-- instance or command is seen on the next request.
CREATE TABLE user_versions (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    version BIGINT NOT NULL DEFAULT 0
);
INSERT INTO user_versions (user_id) SELECT id FROM users;

-- +goose StatementBegin
CREATE FUNCTION user_versions_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_versions (user_id) VALUES (NEW.id);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER user_versions_add AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION user_versions_add();

-- The bump runs at commit (a deferred constraint trigger), after every other
-- row lock the transaction takes: the version row is never held while its
-- transaction waits for another lock, so it adds no deadlock.
-- +goose StatementBegin
CREATE FUNCTION user_versions_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    uid BIGINT;
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        uid := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        uid := OLD.user_id;
    ELSE
        uid := NEW.user_id;
    END IF;
    UPDATE user_versions SET version = version + 1 WHERE user_id = uid;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER user_versions_bump AFTER UPDATE ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION user_versions_bump();
CREATE CONSTRAINT TRIGGER user_versions_bump AFTER INSERT OR UPDATE OR DELETE ON users_privacy_settings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION user_versions_bump();
CREATE CONSTRAINT TRIGGER user_versions_bump AFTER INSERT OR UPDATE OR DELETE ON users_integrations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION user_versions_bump();
CREATE CONSTRAINT TRIGGER user_versions_bump AFTER INSERT OR UPDATE OR DELETE ON mfa_factors
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION user_versions_bump();

-- +goose Down
DROP TRIGGER user_versions_bump ON mfa_factors;
DROP TRIGGER user_versions_bump ON users_integrations;
DROP TRIGGER user_versions_bump ON users_privacy_settings;
DROP TRIGGER user_versions_bump ON users;
DROP TRIGGER user_versions_add ON users;
DROP FUNCTION user_versions_bump();
DROP FUNCTION user_versions_add();
DROP TABLE user_versions;
