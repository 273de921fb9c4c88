-- +goose Up
-- media_path keeps the uploader's own file name (up to 255 bytes) after
-- "activity_media/<activity id>_", which does not fit in Endurain's 250.
ALTER TABLE activity_media ALTER COLUMN media_path TYPE VARCHAR(300);
