package idp

// Template is a preset for a well-known provider, shown when an admin adds one.
type Template struct {
	TemplateID         string      `json:"template_id"`
	Name               string      `json:"name"`
	ProviderType       string      `json:"provider_type"`
	IssuerURL          string      `json:"issuer_url"`
	Scopes             string      `json:"scopes"`
	Icon               string      `json:"icon"`
	UserMapping        UserMapping `json:"user_mapping"`
	Description        string      `json:"description"`
	ConfigurationNotes string      `json:"configuration_notes"`
}

// Templates returns the presets for Keycloak, Authentik, Authelia, Pocket ID and
// a generic OIDC provider. Every one uses the authorization code flow with PKCE.
func Templates() []Template {
	std := UserMapping{
		"username": {"preferred_username", "username", "email"},
		"email":    {"email"},
		"name":     {"name", "given_name"},
	}
	return []Template{
		{
			TemplateID: "keycloak", Name: "Keycloak", ProviderType: TypeOIDC,
			IssuerURL: "https://{keycloak-domain}/realms/{realm}", Scopes: DefaultScopes, Icon: "keycloak",
			UserMapping: std,
			Description: "Keycloak open-source identity and access management",
			ConfigurationNotes: "Create an OpenID Connect client with Client authentication on and the Standard flow enabled. " +
				"Set the valid redirect URI to {PUBLIC_URL}/api/v1/public/idp/callback/{slug} and PKCE method S256.",
		},
		{
			TemplateID: "authentik", Name: "Authentik", ProviderType: TypeOIDC,
			IssuerURL: "https://{authentik-domain}/application/o/{application-slug}/", Scopes: DefaultScopes, Icon: "authentik",
			UserMapping: std,
			Description: "Authentik identity provider",
			ConfigurationNotes: "Create an OAuth2/OpenID provider (confidential client) and an application. " +
				"Redirect URI: {PUBLIC_URL}/api/v1/public/idp/callback/{slug}. The issuer URL ends with the application slug and a slash.",
		},
		{
			TemplateID: "authelia", Name: "Authelia", ProviderType: TypeOIDC,
			IssuerURL: "https://{authelia-domain}", Scopes: DefaultScopes, Icon: "authelia",
			UserMapping: std,
			Description: "Authelia authentication and authorization server",
			ConfigurationNotes: "Add a client under identity_providers.oidc.clients with authorization_policy, " +
				"redirect_uris: [{PUBLIC_URL}/api/v1/public/idp/callback/{slug}], require_pkce: true, pkce_challenge_method: S256 " +
				"and token_endpoint_auth_method: client_secret_basic.",
		},
		{
			TemplateID: "pocket-id", Name: "Pocket ID", ProviderType: TypeOIDC,
			IssuerURL: "https://{pocket-id-domain}", Scopes: DefaultScopes, Icon: "pocket-id",
			UserMapping: std,
			Description: "Pocket ID passkey-based OIDC provider",
			ConfigurationNotes: "Create an OIDC client with the callback URL {PUBLIC_URL}/api/v1/public/idp/callback/{slug}; " +
				"keep it a confidential client (not public) and PKCE enabled.",
		},
		{
			TemplateID: "generic-oidc", Name: "Generic OIDC", ProviderType: TypeOIDC,
			IssuerURL: "https://{provider-domain}", Scopes: DefaultScopes, Icon: "openid",
			UserMapping: UserMapping{
				"username": {"preferred_username", "username", "email"},
				"email":    {"email", "mail"},
				"name":     {"name", "display_name", "full_name", "displayName"},
			},
			Description: "Any OpenID Connect provider that publishes /.well-known/openid-configuration",
			ConfigurationNotes: "The provider must support discovery, the authorization code flow and signed ID tokens. " +
				"Register {PUBLIC_URL}/api/v1/public/idp/callback/{slug} as the redirect URI.",
		},
	}
}
