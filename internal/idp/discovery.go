package idp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/trailpass/trailpass/internal/account"
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
		// The cause (connection refused, a 404, another issuer) is for the log;
		// the client learns that the provider, not trailpass, failed.
		return nil, fmt.Errorf("discover %s: %v: %w", p.Slug, err, unreachable(p))
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
	// An explicit style: AutoDetect would try basic first and, against a client
	// registered for client_secret_post, fail once before every sign-in.
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if authMethod(p, op) == AuthPost {
		ep.AuthStyle = oauth2.AuthStyleInParams
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

// unreachable is the client's view of a provider that failed to answer.
func unreachable(p *Provider) *account.Error {
	return account.Errorf(account.EUPSTREAM, "Identity provider %s could not be reached; try again later", p.Name)
}

// authMethod is how the client authenticates at p's token endpoint: the
// configured method, else the OIDC default client_secret_basic unless the
// discovery document advertises client_secret_post and not basic.
func authMethod(p *Provider, op *oidc.Provider) string {
	if p.TokenEndpointAuthMethod != nil && *p.TokenEndpointAuthMethod != "" {
		return *p.TokenEndpointAuthMethod
	}
	var d discoveryDoc
	if op != nil {
		_ = op.Claims(&d) // a document without the list means basic
	}
	return d.defaultAuthMethod()
}

// discoveryDoc is the part of a discovery document the save check reads.
type discoveryDoc struct {
	Issuer      string   `json:"issuer"`
	AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
}

func (d discoveryDoc) defaultAuthMethod() string {
	if len(d.AuthMethods) > 0 && !slices.Contains(d.AuthMethods, AuthBasic) && slices.Contains(d.AuthMethods, AuthPost) {
		return AuthPost
	}
	return AuthBasic
}

// saveCheckTimeout bounds the discovery check of a save, which an admin waits for.
const saveCheckTimeout = 5 * time.Second

// checkDiscovery fetches p's discovery document before p is saved. A provider
// that names another issuer (often a missing or extra trailing slash) would fail
// every ID token check: when strict, the save is refused with EUNPROCESSABLE on
// issuer_url; otherwise (an existing provider being disabled) that is a warning.
// A provider that cannot be reached yet, or a token endpoint auth method it does
// not advertise, gives only a warning.
func (s *Service) checkDiscovery(ctx context.Context, p *Provider, strict bool) (warning string, err error) {
	ctx, cancel := context.WithTimeout(ctx, saveCheckTimeout)
	defer cancel()
	d, err := s.fetchDiscovery(ctx, p.IssuerURL)
	if err != nil {
		logWarn(ctx, "identity provider discovery check failed", p, err)
		return fmt.Sprintf("Saved, but the provider's discovery document could not be read (%v); sign-in will fail until it can", err), nil
	}
	if d.Issuer != p.IssuerURL {
		msg := fmt.Sprintf("The provider names its issuer %q, not %q; enter exactly its issuer URL (ID tokens are checked against it)", d.Issuer, p.IssuerURL)
		if strict {
			return "", account.ValidationError(account.FieldError{Field: "issuer_url", Message: msg})
		}
		return "Saved, but sign-in will fail: " + msg, nil
	}
	if m := p.TokenEndpointAuthMethod; m != nil && len(d.AuthMethods) > 0 && !slices.Contains(d.AuthMethods, *m) {
		return fmt.Sprintf("Saved, but the provider advertises the token endpoint auth methods %s, not %s",
			strings.Join(d.AuthMethods, ", "), *m), nil
	}
	return "", nil
}

// fetchDiscovery reads issuer's /.well-known/openid-configuration (at most 1 MiB).
func (s *Service) fetchDiscovery(ctx context.Context, issuer string) (*discoveryDoc, error) {
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	client := s.HTTPClient
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", u, resp.Status)
	}
	var d discoveryDoc
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&d); err != nil {
		return nil, fmt.Errorf("%s is not a discovery document: %w", u, err)
	}
	if d.Issuer == "" {
		return nil, fmt.Errorf("%s names no issuer", u)
	}
	return &d, nil
}
