-- +goose Up
-- Endurain's server settings, one row (id 1) that every instance reads per
-- request, so a switch flipped on one instance holds on all of them at once.
-- sso_enabled defaults to true (Endurain: false) so that providers an operator
-- configured keep working after the upgrade.
CREATE TABLE server_settings (
    id                                INTEGER PRIMARY KEY CHECK (id = 1),
    units                             INTEGER NOT NULL DEFAULT 1,
    currency                          INTEGER NOT NULL DEFAULT 1,
    num_records_per_page              INTEGER NOT NULL DEFAULT 25,
    public_shareable_links            BOOLEAN NOT NULL DEFAULT FALSE,
    public_shareable_links_user_info  BOOLEAN NOT NULL DEFAULT FALSE,
    login_photo_set                   BOOLEAN NOT NULL DEFAULT FALSE,
    signup_enabled                    BOOLEAN NOT NULL DEFAULT FALSE,
    signup_require_admin_approval     BOOLEAN NOT NULL DEFAULT TRUE,
    signup_require_email_verification BOOLEAN NOT NULL DEFAULT TRUE,
    sso_enabled                       BOOLEAN NOT NULL DEFAULT TRUE,
    local_login_enabled               BOOLEAN NOT NULL DEFAULT TRUE,
    sso_auto_redirect                 BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO server_settings (id) VALUES (1);

