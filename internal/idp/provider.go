package idp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Provider types accepted by the admin API. Both run the OIDC authorization code
// flow with discovery; Endurain's "saml" was accepted but never implemented, so
// it is refused here instead of silently running OIDC.
const (
	TypeOIDC   = "oidc"
	TypeOAuth2 = "oauth2"
)

// Client authentication methods at the token endpoint (OIDC Core 9).
const (
	AuthBasic = "client_secret_basic"
	AuthPost  = "client_secret_post"
)

// DefaultScopes are requested when a provider names none.
const DefaultScopes = "openid profile email"

// Provider is an identity provider as the API shows it, with Endurain's JSON
// names. It never carries the client secret: HasClientSecret says whether one is
// stored.
type Provider struct {
	ID                    int64       `json:"id"`
	Name                  string      `json:"name"`
	Slug                  string      `json:"slug"`
	ProviderType          string      `json:"provider_type"`
	Enabled               bool        `json:"enabled"`
	ClientID              string      `json:"client_id"`
	IssuerURL             string      `json:"issuer_url"`
	AuthorizationEndpoint *string     `json:"authorization_endpoint"`
	TokenEndpoint         *string     `json:"token_endpoint"`
	UserinfoEndpoint      *string     `json:"userinfo_endpoint"`
	JWKSURI               *string     `json:"jwks_uri"`
	Scopes                string      `json:"scopes"`
	Icon                  *string     `json:"icon"`
	AutoCreateUsers       bool        `json:"auto_create_users"`
	SyncUserInfo          bool        `json:"sync_user_info"`
	LinkByVerifiedEmail   bool        `json:"link_by_verified_email"`
	UserMapping           UserMapping `json:"user_mapping"`
	// TokenEndpointAuthMethod is AuthBasic, AuthPost or nil (follow discovery).
	TokenEndpointAuthMethod *string   `json:"token_endpoint_auth_method"`
	HasClientSecret         bool      `json:"has_client_secret"`
	CreatedAt               time.Time `json:"created_at"`
	UpdatedAt               time.Time `json:"updated_at"`
}

// PublicProvider is what the sign-in page may see of an enabled provider.
type PublicProvider struct {
	ID   int64   `json:"id"`
	Name string  `json:"name"`
	Slug string  `json:"slug"`
	Icon *string `json:"icon"`
}

// ProviderInput is the body of the admin create and update routes. On update an
// empty ClientSecret keeps the stored one. Nil AutoCreateUsers and SyncUserInfo
// default to true, as in Endurain.
type ProviderInput struct {
	Name                  string      `json:"name"`
	Slug                  string      `json:"slug"`
	ProviderType          string      `json:"provider_type"`
	Enabled               bool        `json:"enabled"`
	ClientID              string      `json:"client_id"`
	ClientSecret          string      `json:"client_secret"`
	IssuerURL             string      `json:"issuer_url"`
	AuthorizationEndpoint *string     `json:"authorization_endpoint"`
	TokenEndpoint         *string     `json:"token_endpoint"`
	UserinfoEndpoint      *string     `json:"userinfo_endpoint"`
	JWKSURI               *string     `json:"jwks_uri"`
	Scopes                string      `json:"scopes"`
	Icon                  *string     `json:"icon"`
	AutoCreateUsers       *bool       `json:"auto_create_users"`
	SyncUserInfo          *bool       `json:"sync_user_info"`
	LinkByVerifiedEmail   bool        `json:"link_by_verified_email"`
	UserMapping           UserMapping `json:"user_mapping"`
	// TokenEndpointAuthMethod is AuthBasic, AuthPost, or nil/"" to follow discovery.
	TokenEndpointAuthMethod *string `json:"token_endpoint_auth_method"`
}

// UserMapping maps a profile field ("username", "email", "name") to the claims
// tried in order; the first non-empty one wins. In JSON each value may be one
// claim name or a list of them, as Endurain accepts.
type UserMapping map[string][]string

// UnmarshalJSON accepts {"field": "claim"} as well as {"field": ["a", "b"]}.
func (m *UserMapping) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*m = nil
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("user_mapping must be an object: %w", err)
	}
	out := UserMapping{}
	for k, v := range raw {
		var one string
		if err := json.Unmarshal(v, &one); err == nil {
			out[k] = []string{one}
			continue
		}
		var many []string
		if err := json.Unmarshal(v, &many); err != nil {
			return fmt.Errorf("user_mapping.%s must be a claim name or a list of them", k)
		}
		out[k] = many
	}
	*m = out
	return nil
}

// defaultMapping is merged under a provider's mapping.
var defaultMapping = UserMapping{
	"username": {"preferred_username", "username"},
	"email":    {"email", "mail"},
	"name":     {"name", "display_name", "full_name", "displayName"},
}

// claimsFor returns the claim names tried for field: the provider's own list,
// else the default.
func (m UserMapping) claimsFor(field string) []string {
	if v, ok := m[field]; ok && len(v) > 0 {
		return v
	}
	return defaultMapping[field]
}
