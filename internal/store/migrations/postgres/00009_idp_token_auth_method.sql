-- +goose Up
-- How trailpass authenticates at a provider's token endpoint, as the client is
-- registered there: client_secret_basic or client_secret_post. NULL follows the
-- provider's discovery document (basic unless it advertises only post), so the
-- client never probes one style and retries with the other.
ALTER TABLE identity_providers ADD COLUMN token_endpoint_auth_method VARCHAR(30);
