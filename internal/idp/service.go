package idp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/secret"
)

// Service holds the identity-provider rules shared by the API, the console and
// the CLI. Discovery documents are cached in memory per provider; everything a
// flow needs between its two requests lives in the database, so any instance can
// answer a callback.
type Service struct {
	Store    Store
	Accounts *account.Service
	Events   account.EventStore // required: every SSO sign-in and link is recorded
	Keyring  *secret.Keyring
	// PublicURL is trailpass's external base URL; callbacks go to
	// <PublicURL>/api/v1/public/idp/callback/<slug>.
	PublicURL  *url.URL
	HTTPClient *http.Client
	// Settings (required) is read on every sign-in step: with sso_enabled off
	// the public list is empty and SSO sign-in is refused.
	Settings SettingsReader
	Now      func() time.Time
	// Recent enforces the recent-authentication rule on provider writes, link
	// and unlink; nil refuses them.
	Recent account.RecentAuthChecker
	// Notices queues security notices with the change they report; nil sends none.
	Notices account.Notifier

	mu        sync.Mutex
	discovery map[int64]*discovered
}

var slugRE = regexp.MustCompile(`^[a-z0-9-]+$`)

// ClientSecretBinding binds a sealed client secret to its provider row.
func ClientSecretBinding(id int64) string {
	return "identity_providers.client_secret:" + strconv.FormatInt(id, 10)
}

// List returns every provider, ordered by name, without secrets.
func (s *Service) List(ctx context.Context) ([]*Provider, error) {
	ps, err := s.Store.ListIdentityProviders(ctx)
	if ps == nil && err == nil {
		ps = []*Provider{}
	}
	return ps, err
}

// Get returns one provider without its secret; ENOTFOUND
// "Identity provider with id N not found".
func (s *Service) Get(ctx context.Context, id int64) (*Provider, error) {
	p, _, err := s.Store.FindIdentityProvider(ctx, id)
	return p, err
}

// SettingsReader reads the server settings (straight from the database, so a
// switch holds on every instance at once).
type SettingsReader interface {
	ServerSettings(ctx context.Context) (*account.ServerSettings, error)
}

// ssoEnabled reports whether SSO sign-in is switched on in the server settings.
func (s *Service) ssoEnabled(ctx context.Context) (bool, error) {
	st, err := s.Settings.ServerSettings(ctx)
	if err != nil {
		return false, err
	}
	return st.SSOEnabled, nil
}

// PublicList returns the enabled providers for the sign-in page; none while SSO
// is switched off.
func (s *Service) PublicList(ctx context.Context) ([]PublicProvider, error) {
	out := []PublicProvider{}
	if on, err := s.ssoEnabled(ctx); err != nil || !on {
		return out, err
	}
	ps, err := s.Store.ListIdentityProviders(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.Enabled {
			out = append(out, PublicProvider{ID: p.ID, Name: p.Name, Slug: p.Slug, Icon: p.Icon})
		}
	}
	return out, nil
}

// Saved is a provider as create and update return it. Warning, beyond
// Endurain's shape, says why the provider could not be checked (it was saved
// anyway).
type Saved struct {
	Provider
	Warning string `json:"warning,omitempty"`
}

// Create validates and stores a new provider, its client secret sealed with the
// keyring, after checking its discovery document (see checkDiscovery). Returns
// EUNPROCESSABLE with Fields for bad input or an issuer the provider does not
// confirm, and ECONFLICT when the slug is taken. Like every provider write it
// needs c's recent authentication.
func (s *Service) Create(ctx context.Context, c *account.Caller, in ProviderInput) (*Saved, error) {
	if err := account.RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return nil, err
	}
	p := &Provider{}
	if err := s.apply(p, in, true); err != nil {
		return nil, err
	}
	warning, err := s.checkDiscovery(ctx, p, true)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	p.CreatedAt, p.UpdatedAt = now, now
	if err := s.Store.CreateIdentityProvider(ctx, p, s.sealer(in.ClientSecret)); err != nil {
		return nil, err
	}
	return &Saved{Provider: *p, Warning: warning}, nil
}

// Update changes the fields present in the patch and keeps the others, as
// Endurain's update does; the client secret changes only when a new one is
// sent. Returns ENOTFOUND, EUNPROCESSABLE (bad input, or an issuer the provider
// does not confirm) or ECONFLICT (slug taken, or the provider was changed
// meanwhile). The cached discovery document is dropped, so a changed issuer
// takes effect at once.
func (s *Service) Update(ctx context.Context, c *account.Caller, id int64, patch ProviderPatch) (*Saved, error) {
	if err := account.RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return nil, err
	}
	p, _, err := s.Store.FindIdentityProvider(ctx, id)
	if err != nil {
		return nil, err
	}
	old := *p
	in, fe := patch.onto(p)
	if len(fe) > 0 {
		return nil, account.ValidationError(fe...)
	}
	if err := s.apply(p, in, false); err != nil {
		return nil, err
	}
	// Links are keyed by (provider, subject): another issuer would make its
	// subjects land on the accounts of the old one's.
	if p.IssuerURL != old.IssuerURL {
		n, err := s.Store.CountIdentityLinks(ctx, id)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, account.Errorf(account.ECONFLICT, "Cannot change the issuer of a provider accounts are linked to; add a new provider instead")
		}
	}
	// The stored client secret must not be sent to a new token endpoint unless
	// the admin gives it again.
	if in.ClientSecret == "" && (p.IssuerURL != old.IssuerURL || !equalStrPtr(p.TokenEndpoint, old.TokenEndpoint)) {
		return nil, account.ValidationError(account.FieldError{Field: "client_secret", Message: "Enter the client secret again when the issuer or token endpoint changes"})
	}
	warning, err := s.checkDiscovery(ctx, p, p.Enabled || p.IssuerURL != old.IssuerURL)
	if err != nil {
		return nil, err
	}
	p.UpdatedAt = s.Now().UTC()
	var seal func(int64) string
	if in.ClientSecret != "" {
		seal = s.sealer(in.ClientSecret)
		p.HasClientSecret = true
	}
	if err := s.Store.UpdateIdentityProvider(ctx, p, old.UpdatedAt, seal); err != nil {
		return nil, err
	}
	s.forget(id)
	return &Saved{Provider: *p, Warning: warning}, nil
}

// Delete removes a provider. Returns ENOTFOUND, or ECONFLICT while accounts are
// linked to it.
func (s *Service) Delete(ctx context.Context, c *account.Caller, id int64) error {
	if err := account.RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return err
	}
	if err := s.Store.DeleteIdentityProvider(ctx, id); err != nil {
		return err
	}
	s.forget(id)
	return nil
}

func equalStrPtr(a, b *string) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func (s *Service) sealer(clientSecret string) func(int64) string {
	return func(id int64) string { return s.Keyring.Seal([]byte(clientSecret), ClientSecretBinding(id)) }
}

// apply validates in and copies it onto p.
func (s *Service) apply(p *Provider, in ProviderInput, create bool) error {
	var fe []account.FieldError
	bad := func(field, msg string) { fe = append(fe, account.FieldError{Field: field, Message: msg}) }
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 100 {
		bad("name", "Name must be 1-100 characters")
	}
	if !slugRE.MatchString(in.Slug) || len(in.Slug) > 50 {
		bad("slug", "Slug must be 1-50 characters of lower-case letters, digits and hyphens")
	}
	typ := in.ProviderType
	if typ == "" {
		typ = TypeOIDC
	}
	if typ != TypeOIDC && typ != TypeOAuth2 {
		bad("provider_type", "Provider type must be oidc or oauth2")
	}
	clientID := strings.TrimSpace(in.ClientID)
	if clientID == "" || len(clientID) > 512 {
		bad("client_id", "Client ID is required (at most 512 characters)")
	}
	if create && in.ClientSecret == "" {
		bad("client_secret", "Client secret is required")
	}
	if len(in.ClientSecret) > 1024 {
		bad("client_secret", "Client secret must be at most 1024 characters")
	}
	issuer := strings.TrimSpace(in.IssuerURL)
	if !validHTTPURL(issuer) {
		bad("issuer_url", "Issuer URL must be an http(s) URL of at most 500 characters")
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"authorization_endpoint", in.AuthorizationEndpoint}, {"token_endpoint", in.TokenEndpoint},
		{"userinfo_endpoint", in.UserinfoEndpoint}, {"jwks_uri", in.JWKSURI}} {
		if f.v != nil && *f.v != "" && !validHTTPURL(*f.v) {
			bad(f.name, "Must be an http(s) URL of at most 500 characters")
		}
	}
	scopes := strings.Join(strings.Fields(in.Scopes), " ")
	if scopes == "" {
		scopes = DefaultScopes
	}
	if !strings.Contains(" "+scopes+" ", " openid ") {
		bad("scopes", "Scopes must include openid")
	}
	if len(scopes) > 500 {
		bad("scopes", "Scopes must be at most 500 characters")
	}
	if in.Icon != nil && len(*in.Icon) > 100 {
		bad("icon", "Icon must be at most 100 characters")
	}
	for k, v := range in.UserMapping {
		if k != "username" && k != "email" && k != "name" {
			bad("user_mapping", "user_mapping keys must be username, email or name")
		}
		for _, c := range v {
			if c == "" || len(c) > 100 {
				bad("user_mapping", "user_mapping claim names must be 1-100 characters")
			}
		}
	}
	method := ""
	if in.TokenEndpointAuthMethod != nil {
		method = strings.TrimSpace(*in.TokenEndpointAuthMethod)
	}
	if method != "" && method != AuthBasic && method != AuthPost {
		bad("token_endpoint_auth_method", "Token endpoint auth method must be client_secret_basic or client_secret_post")
	}
	if len(fe) > 0 {
		return account.ValidationError(fe...)
	}
	p.TokenEndpointAuthMethod = emptyNil(&method)
	p.Name, p.Slug, p.ProviderType, p.Enabled = name, in.Slug, typ, in.Enabled
	p.ClientID, p.IssuerURL, p.Scopes, p.Icon = clientID, issuer, scopes, emptyNil(in.Icon)
	p.AuthorizationEndpoint, p.TokenEndpoint = emptyNil(in.AuthorizationEndpoint), emptyNil(in.TokenEndpoint)
	p.UserinfoEndpoint, p.JWKSURI = emptyNil(in.UserinfoEndpoint), emptyNil(in.JWKSURI)
	p.AutoCreateUsers = in.AutoCreateUsers == nil || *in.AutoCreateUsers
	p.SyncUserInfo = in.SyncUserInfo == nil || *in.SyncUserInfo
	p.LinkByVerifiedEmail = in.LinkByVerifiedEmail
	p.UserMapping = in.UserMapping
	return nil
}

func validHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && len(s) <= 500 && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

func emptyNil(p *string) *string {
	if p == nil || strings.TrimSpace(*p) == "" {
		return nil
	}
	v := strings.TrimSpace(*p)
	return &v
}

// clientSecret opens a provider's sealed client secret.
func (s *Service) clientSecret(p *Provider, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	b, err := s.Keyring.Open(sealed, ClientSecretBinding(p.ID))
	if err != nil {
		return "", fmt.Errorf("open client secret of provider %d: %w", p.ID, err)
	}
	return string(b), nil
}
