-- +goose Up
-- The whole data model: Endurain v0.16.2's profile tables (with the uniqueness Endurain
-- only checked in application code) plus what trailpass needs for sessions, MFA,
-- identity providers, short-lived shared state and the security log.
-- SQLite flavour: times are fixed-width UTC text (so they sort), decimals are exact
-- decimal text, JSON is text.

CREATE TABLE users (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    name                   VARCHAR(250) NOT NULL,
    username               VARCHAR(250) NOT NULL UNIQUE,
    email                  VARCHAR(250) NOT NULL UNIQUE,
    password               VARCHAR(250),
    city                   VARCHAR(250),
    birthdate              TEXT,
    preferred_language     VARCHAR(5) NOT NULL DEFAULT 'us',
    gender                 INTEGER NOT NULL DEFAULT 1,
    units                  INTEGER NOT NULL DEFAULT 1,
    height                 INTEGER,
    max_heart_rate         INTEGER,
    access_type            INTEGER NOT NULL DEFAULT 1,
    photo_path             VARCHAR(250),
    active                 BOOLEAN NOT NULL DEFAULT TRUE,
    first_day_of_week      INTEGER NOT NULL DEFAULT 1,
    currency               INTEGER NOT NULL DEFAULT 1,
    email_verified         BOOLEAN NOT NULL DEFAULT FALSE,
    pending_admin_approval BOOLEAN NOT NULL DEFAULT FALSE,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);

CREATE TABLE users_privacy_settings (
    id                                  INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id                             BIGINT NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    default_activity_visibility         INTEGER NOT NULL DEFAULT 0,
    hide_activity_start_time            BOOLEAN NOT NULL DEFAULT FALSE,
    hide_activity_location              BOOLEAN NOT NULL DEFAULT FALSE,
    hide_activity_map                   BOOLEAN NOT NULL DEFAULT FALSE,
    hide_activity_hr                    BOOLEAN NOT NULL DEFAULT FALSE,
    hide_activity_power                 BOOLEAN NOT NULL DEFAULT FALSE,
    hide_activity_cadence               BOOLEAN NOT NULL DEFAULT FALSE,
    hide_activity_elevation             BOOLEAN NOT NULL DEFAULT FALSE,
    hide_activity_speed                 BOOLEAN NOT NULL DEFAULT FALSE,
    hide_activity_pace                  BOOLEAN NOT NULL DEFAULT FALSE,
    hide_activity_laps                  BOOLEAN NOT NULL DEFAULT FALSE,
    hide_activity_workout_sets_steps    BOOLEAN NOT NULL DEFAULT FALSE,
    hide_activity_gear                  BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE users_integrations (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id                   BIGINT NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    strava_client_id          VARCHAR(512),
    strava_client_secret      VARCHAR(512),
    strava_state              VARCHAR(45),
    strava_token              VARCHAR(512),
    strava_refresh_token      VARCHAR(512),
    strava_token_expires_at   TEXT,
    strava_sync_gear          BOOLEAN NOT NULL DEFAULT FALSE,
    garminconnect_oauth1      TEXT,
    garminconnect_oauth2      TEXT,
    garminconnect_sync_gear   BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE health_targets (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    weight  TEXT,
    steps   INTEGER,
    sleep   INTEGER
);

CREATE TABLE gear (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id               BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    brand                 VARCHAR(250),
    model                 VARCHAR(250),
    nickname              VARCHAR(250) NOT NULL,
    gear_type             INTEGER NOT NULL,
    created_at            TEXT NOT NULL,
    active                BOOLEAN NOT NULL DEFAULT TRUE,
    initial_kms           TEXT NOT NULL DEFAULT 0,
    purchase_value        TEXT,
    strava_gear_id        VARCHAR(45),
    garminconnect_gear_id VARCHAR(45),
    UNIQUE (user_id, nickname)
);

CREATE TABLE gear_components (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    gear_id        BIGINT NOT NULL REFERENCES gear(id) ON DELETE CASCADE,
    type           VARCHAR(250) NOT NULL,
    brand          VARCHAR(250) NOT NULL,
    model          VARCHAR(250) NOT NULL,
    purchase_date  TEXT NOT NULL,
    retired_date   TEXT,
    active         BOOLEAN NOT NULL DEFAULT FALSE,
    expected_kms   INTEGER,
    purchase_value TEXT
);
CREATE INDEX gear_components_gear_id ON gear_components(gear_id);

CREATE TABLE users_default_gear (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id             BIGINT NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    run_gear_id         BIGINT REFERENCES gear(id) ON DELETE SET NULL,
    trail_run_gear_id   BIGINT REFERENCES gear(id) ON DELETE SET NULL,
    virtual_run_gear_id BIGINT REFERENCES gear(id) ON DELETE SET NULL,
    ride_gear_id        BIGINT REFERENCES gear(id) ON DELETE SET NULL,
    gravel_ride_gear_id BIGINT REFERENCES gear(id) ON DELETE SET NULL,
    mtb_ride_gear_id    BIGINT REFERENCES gear(id) ON DELETE SET NULL,
    virtual_ride_gear_id BIGINT REFERENCES gear(id) ON DELETE SET NULL,
    ows_gear_id         BIGINT REFERENCES gear(id) ON DELETE SET NULL,
    walk_gear_id        BIGINT REFERENCES gear(id) ON DELETE SET NULL,
    hike_gear_id        BIGINT REFERENCES gear(id) ON DELETE SET NULL,
    tennis_gear_id      BIGINT REFERENCES gear(id) ON DELETE SET NULL,
    alpine_ski_gear_id  BIGINT REFERENCES gear(id) ON DELETE SET NULL,
    nordic_ski_gear_id  BIGINT REFERENCES gear(id) ON DELETE SET NULL,
    snowboard_gear_id   BIGINT REFERENCES gear(id) ON DELETE SET NULL,
    windsurf_gear_id    BIGINT REFERENCES gear(id) ON DELETE SET NULL
);

CREATE TABLE users_goals (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id                BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    interval               VARCHAR(250) NOT NULL,
    activity_type          INTEGER NOT NULL,
    goal_type              INTEGER NOT NULL,
    goal_calories          INTEGER,
    goal_activities_number INTEGER,
    goal_distance          INTEGER,
    goal_elevation         INTEGER,
    goal_duration          INTEGER,
    UNIQUE (user_id, interval, activity_type, goal_type)
);

CREATE TABLE activities (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id                   BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name                      VARCHAR(250),
    description               VARCHAR(2500),
    private_notes             VARCHAR(2500),
    distance                  INTEGER NOT NULL,
    activity_type             INTEGER NOT NULL,
    start_time                TEXT NOT NULL,
    end_time                  TEXT NOT NULL,
    timezone                  VARCHAR(250),
    total_elapsed_time        TEXT NOT NULL,
    total_timer_time          TEXT NOT NULL,
    city                      VARCHAR(250),
    town                      VARCHAR(250),
    country                   VARCHAR(250),
    created_at                TEXT NOT NULL,
    elevation_gain            INTEGER,
    elevation_loss            INTEGER,
    pace                      TEXT,
    average_speed             TEXT,
    max_speed                 TEXT,
    average_power             INTEGER,
    max_power                 INTEGER,
    normalized_power          INTEGER,
    average_hr                INTEGER,
    max_hr                    INTEGER,
    average_cad               INTEGER,
    max_cad                   INTEGER,
    workout_feeling           INTEGER,
    workout_rpe               INTEGER,
    calories                  INTEGER,
    visibility                INTEGER NOT NULL DEFAULT 0,
    gear_id                   BIGINT REFERENCES gear(id) ON DELETE SET NULL,
    strava_gear_id            VARCHAR(45),
    strava_activity_id        BIGINT,
    garminconnect_activity_id BIGINT,
    garminconnect_gear_id     VARCHAR(45),
    import_info               TEXT,
    is_hidden                 BOOLEAN NOT NULL DEFAULT FALSE,
    hide_start_time           BOOLEAN NOT NULL DEFAULT FALSE,
    hide_location             BOOLEAN NOT NULL DEFAULT FALSE,
    hide_map                  BOOLEAN NOT NULL DEFAULT FALSE,
    hide_hr                   BOOLEAN NOT NULL DEFAULT FALSE,
    hide_power                BOOLEAN NOT NULL DEFAULT FALSE,
    hide_cadence              BOOLEAN NOT NULL DEFAULT FALSE,
    hide_elevation            BOOLEAN NOT NULL DEFAULT FALSE,
    hide_speed                BOOLEAN NOT NULL DEFAULT FALSE,
    hide_pace                 BOOLEAN NOT NULL DEFAULT FALSE,
    hide_laps                 BOOLEAN NOT NULL DEFAULT FALSE,
    hide_workout_sets_steps   BOOLEAN NOT NULL DEFAULT FALSE,
    hide_gear                 BOOLEAN NOT NULL DEFAULT FALSE,
    tracker_manufacturer      VARCHAR(250),
    tracker_model             VARCHAR(250),
    file_key                  VARCHAR(250)
);
-- Export pages through a user's activities by (start_time, id).
CREATE INDEX activities_user_start ON activities(user_id, start_time, id);
CREATE INDEX activities_gear_id ON activities(gear_id);

CREATE TABLE activity_laps (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id              BIGINT NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    start_time               TEXT NOT NULL,
    start_position_lat       TEXT,
    start_position_long      TEXT,
    end_position_lat         TEXT,
    end_position_long        TEXT,
    total_elapsed_time       TEXT,
    total_timer_time         TEXT,
    total_distance           TEXT,
    total_cycles             INTEGER,
    total_calories           INTEGER,
    avg_heart_rate           INTEGER,
    max_heart_rate           INTEGER,
    avg_cadence              INTEGER,
    max_cadence              INTEGER,
    avg_power                INTEGER,
    max_power                INTEGER,
    total_ascent             INTEGER,
    total_descent            INTEGER,
    intensity                VARCHAR(250),
    lap_trigger              VARCHAR(250),
    sport                    VARCHAR(250),
    sub_sport                VARCHAR(250),
    normalized_power         INTEGER,
    total_work               INTEGER,
    avg_vertical_oscillation TEXT,
    avg_stance_time          TEXT,
    avg_fractional_cadence   TEXT,
    max_fractional_cadence   TEXT,
    enhanced_avg_pace        TEXT,
    enhanced_avg_speed       TEXT,
    enhanced_max_pace        TEXT,
    enhanced_max_speed       TEXT,
    enhanced_min_altitude    TEXT,
    enhanced_max_altitude    TEXT,
    avg_vertical_ratio       TEXT,
    avg_step_length          TEXT
);
CREATE INDEX activity_laps_activity_id ON activity_laps(activity_id);

CREATE TABLE activity_sets (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id      BIGINT NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    duration         TEXT NOT NULL,
    repetitions      INTEGER,
    weight           TEXT,
    set_type         VARCHAR(250) NOT NULL,
    start_time       TEXT NOT NULL,
    category         INTEGER,
    category_subtype INTEGER
);
CREATE INDEX activity_sets_activity_id ON activity_sets(activity_id);

CREATE TABLE activity_streams (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id               BIGINT NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    stream_type               INTEGER NOT NULL,
    stream_waypoints          TEXT NOT NULL,
    strava_activity_stream_id BIGINT
);
CREATE INDEX activity_streams_activity_id ON activity_streams(activity_id);

CREATE TABLE activity_workout_steps (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id            BIGINT NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    message_index          INTEGER NOT NULL,
    duration_type          VARCHAR(250) NOT NULL,
    duration_value         TEXT,
    target_type            VARCHAR(250),
    target_value           INTEGER,
    intensity              VARCHAR(250),
    notes                  VARCHAR(250),
    exercise_category      INTEGER,
    exercise_name          INTEGER,
    exercise_weight        TEXT,
    weight_display_unit    VARCHAR(250),
    secondary_target_value VARCHAR(250)
);
CREATE INDEX activity_workout_steps_activity_id ON activity_workout_steps(activity_id);

-- media_path keeps Endurain's name; it holds a blob-store key chosen by the server.
CREATE TABLE activity_media (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id BIGINT NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    media_path  VARCHAR(250) NOT NULL UNIQUE,
    media_type  INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX activity_media_activity_id ON activity_media(activity_id);

-- Endurain keeps one global dictionary that leaks users' step names to each other;
-- here each user owns their titles.
CREATE TABLE activity_exercise_titles (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id           BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    exercise_category INTEGER NOT NULL,
    exercise_name     INTEGER NOT NULL,
    wkt_step_name     VARCHAR(250) NOT NULL,
    UNIQUE (user_id, exercise_category, exercise_name)
);

CREATE TABLE health_weight (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    date            TEXT NOT NULL,
    weight          TEXT NOT NULL,
    bmi             TEXT,
    body_fat        TEXT,
    body_water      TEXT,
    bone_mass       TEXT,
    muscle_mass     TEXT,
    physique_rating INTEGER,
    visceral_fat    TEXT,
    metabolic_age   INTEGER,
    source          VARCHAR(250)
);
CREATE INDEX health_weight_user_date ON health_weight(user_id, date);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type       INTEGER NOT NULL,
    options    TEXT,
    read       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL
);
CREATE INDEX notifications_user_id ON notifications(user_id);

-- Sessions: opaque tokens are stored only as SHA-256 hashes (in session_tokens).
-- authenticated_at is the last sign-in or step-up, for "recent authentication".
CREATE TABLE sessions (
    id                       VARCHAR(36) PRIMARY KEY,
    user_id                  BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id                VARCHAR(36) NOT NULL,
    auth_method              VARCHAR(32) NOT NULL,
    ip_address               VARCHAR(45) NOT NULL,
    device_type              VARCHAR(45) NOT NULL,
    operating_system         VARCHAR(45) NOT NULL,
    operating_system_version VARCHAR(45) NOT NULL,
    browser                  VARCHAR(45) NOT NULL,
    browser_version          VARCHAR(45) NOT NULL,
    created_at               TEXT NOT NULL,
    authenticated_at         TEXT NOT NULL,
    last_active_at           TEXT NOT NULL,
    expires_at               TEXT NOT NULL,
    absolute_expires_at      TEXT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions(user_id);
CREATE INDEX sessions_expires_at ON sessions(expires_at);

-- Every token ever issued to a session until the session ends: a refresh token that
-- was rotated away keeps its row (superseded_at set) so its reuse can be detected.
CREATE TABLE session_tokens (
    token_hash    VARCHAR(64) PRIMARY KEY,
    session_id    VARCHAR(36) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    kind          VARCHAR(16) NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    superseded_at TEXT
);
CREATE INDEX session_tokens_session_id ON session_tokens(session_id);

CREATE TABLE mfa_factors (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id           BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type              VARCHAR(16) NOT NULL,
    secret_ciphertext TEXT NOT NULL,
    last_used_step    BIGINT NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    UNIQUE (user_id, type)
);

CREATE TABLE backup_codes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  VARCHAR(250) NOT NULL,
    created_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX backup_codes_user_id ON backup_codes(user_id);

CREATE TABLE identity_providers (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    name                    VARCHAR(100) NOT NULL,
    slug                    VARCHAR(50) NOT NULL UNIQUE,
    provider_type           VARCHAR(50) NOT NULL DEFAULT 'oidc',
    enabled                 BOOLEAN NOT NULL DEFAULT FALSE,
    client_id               VARCHAR(512),
    client_secret           TEXT,
    issuer_url              VARCHAR(500),
    authorization_endpoint  VARCHAR(500),
    token_endpoint          VARCHAR(500),
    userinfo_endpoint       VARCHAR(500),
    jwks_uri                VARCHAR(500),
    scopes                  VARCHAR(500) NOT NULL DEFAULT 'openid profile email',
    icon                    VARCHAR(100),
    auto_create_users       BOOLEAN NOT NULL DEFAULT TRUE,
    sync_user_info          BOOLEAN NOT NULL DEFAULT TRUE,
    link_by_verified_email  BOOLEAN NOT NULL DEFAULT FALSE,
    user_mapping            TEXT,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);

CREATE TABLE users_identity_providers (
    id                           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id                      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    idp_id                       BIGINT NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    idp_subject                  VARCHAR(500) NOT NULL,
    linked_at                    TEXT NOT NULL,
    last_login                   TEXT,
    idp_refresh_token            TEXT,
    idp_access_token_expires_at  TEXT,
    idp_refresh_token_updated_at TEXT,
    UNIQUE (idp_id, idp_subject),
    UNIQUE (user_id, idp_id)
);

-- Short-lived shared state. Each row carries its expiry so any instance can use it
-- and a cleanup loop can drop it.
CREATE TABLE mfa_setups (
    user_id           BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret_ciphertext TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    expires_at        TEXT NOT NULL
);

CREATE TABLE login_tickets (
    ticket_hash VARCHAR(64) PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    username    VARCHAR(250) NOT NULL,
    client_type VARCHAR(16) NOT NULL,
    auth_method VARCHAR(32) NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX login_tickets_expires_at ON login_tickets(expires_at);

CREATE TABLE oidc_states (
    state_hash     VARCHAR(64) PRIMARY KEY,
    binding_hash   VARCHAR(64) NOT NULL,
    idp_id         BIGINT NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    mode           VARCHAR(16) NOT NULL,
    user_id        BIGINT REFERENCES users(id) ON DELETE CASCADE,
    session_id     VARCHAR(36),
    nonce          VARCHAR(128) NOT NULL,
    code_verifier  TEXT NOT NULL,
    redirect       VARCHAR(1000),
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL
);
CREATE INDEX oidc_states_expires_at ON oidc_states(expires_at);

-- Rate-limit windows and lockouts, keyed by e.g. "login:ip:192.0.2.1" or "mfa:user:7".
CREATE TABLE throttle_counters (
    key          VARCHAR(300) PRIMARY KEY,
    count        INTEGER NOT NULL,
    window_start TEXT NOT NULL,
    locked_until TEXT,
    lock_level   INTEGER NOT NULL DEFAULT 0,
    expires_at   TEXT NOT NULL
);
CREATE INDEX throttle_counters_expires_at ON throttle_counters(expires_at);

CREATE TABLE import_jobs (
    id         VARCHAR(36) PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status     VARCHAR(16) NOT NULL,
    stage      VARCHAR(64) NOT NULL DEFAULT '',
    progress   TEXT,
    result     TEXT,
    error      TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX import_jobs_user_id ON import_jobs(user_id);

CREATE TABLE security_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT REFERENCES users(id) ON DELETE SET NULL,
    type       VARCHAR(64) NOT NULL,
    ip_address VARCHAR(45),
    user_agent VARCHAR(500),
    detail     TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX security_events_user_id ON security_events(user_id, created_at);
