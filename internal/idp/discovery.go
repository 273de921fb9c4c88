package idp

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// discoveryTTL bounds how long a discovery document is trusted; the JWKS inside
// go-oidc's key set is refetched on an unknown kid regardless.
const discoveryTTL = time.Hour

type discovered struct {
	issuer    string
	updatedAt time.Time
	fetchedAt time.Time
	provider  *oidc.Provider
}

// forget drops the cached discovery of provider id.
func (s *Service) forget(id int64) {
	s.mu.Lock()
	delete(s.discovery, id)
	s.mu.Unlock()
}

// defaultClient bounds every call to a provider when the service has no client.
var defaultClient = &http.Client{Timeout: 15 * time.Second}

// clientContext makes go-oidc and oauth2 use the service's HTTP client.
func (s *Service) clientContext(ctx context.Context) context.Context {
	if s.HTTPClient != nil {
		return oidc.ClientContext(ctx, s.HTTPClient)
	}
	return oidc.ClientContext(ctx, defaultClient)
}

// discover returns p's OIDC provider, from the cache when it was fetched for the
// same issuer and settings within discoveryTTL. Another instance editing the
// provider changes updated_at, which invalidates this instance's entry too.
func (s *Service) discover(ctx context.Context, p *Provider) (*oidc.Provider, error) {
	now := s.Now()
	s.mu.Lock()
	d := s.discovery[p.ID]
	s.mu.Unlock()
	if d != nil && d.issuer == p.IssuerURL && d.updatedAt.Equal(p.UpdatedAt) && now.Sub(d.fetchedAt) < discoveryTTL {
		return d.provider, nil
	}
	// go-oidc keeps only the HTTP client from this context: its key set fetches
	// JWKS later under a background context, so the request's may be cancelled.
	op, err := oidc.NewProvider(s.clientContext(ctx), p.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", p.Slug, err)
	}
	s.mu.Lock()
	if s.discovery == nil {
		s.discovery = map[int64]*discovered{}
	}
	s.discovery[p.ID] = &discovered{issuer: p.IssuerURL, updatedAt: p.UpdatedAt, fetchedAt: now, provider: op}
	s.mu.Unlock()
	return op, nil
}

// oauthConfig builds the OAuth2 client of p, honouring manual endpoint overrides.
func (s *Service) oauthConfig(p *Provider, op *oidc.Provider, clientSecret string) *oauth2.Config {
	ep := op.Endpoint()
	if p.AuthorizationEndpoint != nil {
		ep.AuthURL = *p.AuthorizationEndpoint
	}
	if p.TokenEndpoint != nil {
		ep.TokenURL = *p.TokenEndpoint
	}
	return &oauth2.Config{
		ClientID:     p.ClientID,
		ClientSecret: clientSecret,
		Endpoint:     ep,
		RedirectURL:  s.CallbackURL(p.Slug),
		Scopes:       splitScopes(p.Scopes),
	}
}

// CallbackURL returns the redirect URI registered at the provider for slug.
func (s *Service) CallbackURL(slug string) string {
	base := ""
	if s.PublicURL != nil {
		u := *s.PublicURL
		u.RawQuery, u.Fragment = "", ""
		base = u.String()
	}
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + "/api/v1/public/idp/callback/" + slug
}
