package idp

import (
	"bytes"
	"encoding/json"

	"github.com/trailpass/trailpass/internal/account"
)

// Opt is one field of a partial update as JSON carries it: Set when the body
// has the field, Null when its value is null, else Value.
type Opt[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// UnmarshalJSON records that the field was sent, and whether as null.
func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// ProviderPatch is the body of PUT /api/v1/idp/{id}. Like Endurain's update
// (pydantic exclude_unset), only the fields present change. null clears the
// optional fields (endpoints, jwks_uri, icon, user_mapping, and
// token_endpoint_auth_method, which then follows discovery again); it is refused
// for the required ones. An absent, null or empty client_secret keeps the stored
// secret.
type ProviderPatch struct {
	Name                    Opt[string]      `json:"name"`
	Slug                    Opt[string]      `json:"slug"`
	ProviderType            Opt[string]      `json:"provider_type"`
	Enabled                 Opt[bool]        `json:"enabled"`
	ClientID                Opt[string]      `json:"client_id"`
	ClientSecret            Opt[string]      `json:"client_secret"`
	IssuerURL               Opt[string]      `json:"issuer_url"`
	AuthorizationEndpoint   Opt[string]      `json:"authorization_endpoint"`
	TokenEndpoint           Opt[string]      `json:"token_endpoint"`
	UserinfoEndpoint        Opt[string]      `json:"userinfo_endpoint"`
	JWKSURI                 Opt[string]      `json:"jwks_uri"`
	Scopes                  Opt[string]      `json:"scopes"`
	Icon                    Opt[string]      `json:"icon"`
	AutoCreateUsers         Opt[bool]        `json:"auto_create_users"`
	SyncUserInfo            Opt[bool]        `json:"sync_user_info"`
	LinkByVerifiedEmail     Opt[bool]        `json:"link_by_verified_email"`
	UserMapping             Opt[UserMapping] `json:"user_mapping"`
	TokenEndpointAuthMethod Opt[string]      `json:"token_endpoint_auth_method"`
}

// onto returns the full input that results from applying pt to p (without its
// secret), and a field error for each null sent for a required field.
func (pt ProviderPatch) onto(p *Provider) (ProviderInput, []account.FieldError) {
	auto, sync := p.AutoCreateUsers, p.SyncUserInfo
	in := ProviderInput{
		Name: p.Name, Slug: p.Slug, ProviderType: p.ProviderType, Enabled: p.Enabled, ClientID: p.ClientID,
		IssuerURL: p.IssuerURL, AuthorizationEndpoint: p.AuthorizationEndpoint, TokenEndpoint: p.TokenEndpoint,
		UserinfoEndpoint: p.UserinfoEndpoint, JWKSURI: p.JWKSURI, Scopes: p.Scopes, Icon: p.Icon,
		AutoCreateUsers: &auto, SyncUserInfo: &sync, LinkByVerifiedEmail: p.LinkByVerifiedEmail,
		UserMapping: p.UserMapping, TokenEndpointAuthMethod: p.TokenEndpointAuthMethod,
	}
	var fe []account.FieldError
	required := func(name string, set, null bool) bool {
		if set && null {
			fe = append(fe, account.FieldError{Field: name, Message: "Input should not be null"})
		}
		return set && !null
	}
	if required("name", pt.Name.Set, pt.Name.Null) {
		in.Name = pt.Name.Value
	}
	if required("slug", pt.Slug.Set, pt.Slug.Null) {
		in.Slug = pt.Slug.Value
	}
	if required("provider_type", pt.ProviderType.Set, pt.ProviderType.Null) {
		in.ProviderType = pt.ProviderType.Value
	}
	if required("enabled", pt.Enabled.Set, pt.Enabled.Null) {
		in.Enabled = pt.Enabled.Value
	}
	// Endurain lets client_id and issuer_url be null; sign-in cannot work
	// without them, so apply refuses the empty value with its usual message.
	if pt.ClientID.Set {
		in.ClientID = pt.ClientID.Value
	}
	if pt.IssuerURL.Set {
		in.IssuerURL = pt.IssuerURL.Value
	}
	if pt.ClientSecret.Set && !pt.ClientSecret.Null {
		in.ClientSecret = pt.ClientSecret.Value
	}
	for _, f := range []struct {
		o   Opt[string]
		dst **string
	}{{pt.AuthorizationEndpoint, &in.AuthorizationEndpoint}, {pt.TokenEndpoint, &in.TokenEndpoint},
		{pt.UserinfoEndpoint, &in.UserinfoEndpoint}, {pt.JWKSURI, &in.JWKSURI}, {pt.Icon, &in.Icon},
		{pt.TokenEndpointAuthMethod, &in.TokenEndpointAuthMethod}} {
		if f.o.Set {
			v := f.o.Value
			*f.dst = &v // "" for null: apply stores empty as NULL
		}
	}
	if required("scopes", pt.Scopes.Set, pt.Scopes.Null) {
		in.Scopes = pt.Scopes.Value
	}
	if required("auto_create_users", pt.AutoCreateUsers.Set, pt.AutoCreateUsers.Null) {
		in.AutoCreateUsers = &pt.AutoCreateUsers.Value
	}
	if required("sync_user_info", pt.SyncUserInfo.Set, pt.SyncUserInfo.Null) {
		in.SyncUserInfo = &pt.SyncUserInfo.Value
	}
	if required("link_by_verified_email", pt.LinkByVerifiedEmail.Set, pt.LinkByVerifiedEmail.Null) {
		in.LinkByVerifiedEmail = pt.LinkByVerifiedEmail.Value
	}
	if pt.UserMapping.Set {
		in.UserMapping = pt.UserMapping.Value // nil for null
	}
	return in, fe
}
