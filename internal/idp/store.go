package idp

import (
	"context"
	"time"

	"github.com/trailpass/trailpass/internal/account"
)

// Link is one account's link to an identity provider, with Endurain's JSON names
// and the provider's display fields. The IdP refresh token is never kept.
type Link struct {
	ID                       int64      `json:"id"`
	UserID                   int64      `json:"user_id"`
	IdPID                    int64      `json:"idp_id"`
	IdPSubject               string     `json:"idp_subject"`
	LinkedAt                 time.Time  `json:"linked_at"`
	LastLogin                *time.Time `json:"last_login"`
	IdPAccessTokenExpiresAt  *time.Time `json:"idp_access_token_expires_at"`
	IdPRefreshTokenUpdatedAt *time.Time `json:"idp_refresh_token_updated_at"`
	IdPName                  string     `json:"idp_name"`
	IdPSlug                  string     `json:"idp_slug"`
	IdPIcon                  *string    `json:"idp_icon"`
	IdPProviderType          string     `json:"idp_provider_type"`
}

// Flow modes stored with a state.
const (
	ModeLogin = "login"
	ModeLink  = "link"
)

// State is a pending authorization request, stored until its callback arrives.
// Only hashes of the state and the browser binding are kept; the PKCE verifier
// is sealed with the keyring.
type State struct {
	StateHash    string
	BindingHash  string
	IdPID        int64
	Mode         string
	UserID       *int64
	SessionID    *string
	Nonce        string
	CodeVerifier string // keyring ciphertext
	Redirect     *string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// Store is what the identity-provider rules need from storage. Every method
// returns ENOTFOUND for a missing row and ECONFLICT for a uniqueness violation
// unless it says otherwise.
type Store interface {
	// ListIdentityProviders returns every provider ordered by name.
	ListIdentityProviders(ctx context.Context) ([]*Provider, error)
	// FindIdentityProvider returns a provider and its sealed client secret ("" if none).
	FindIdentityProvider(ctx context.Context, id int64) (*Provider, string, error)
	// FindIdentityProviderBySlug is FindIdentityProvider by slug.
	FindIdentityProviderBySlug(ctx context.Context, slug string) (*Provider, string, error)
	// CreateIdentityProvider inserts p, sets its ID, then stores seal(id) as the
	// client secret in the same transaction (the ciphertext is bound to the id).
	CreateIdentityProvider(ctx context.Context, p *Provider, seal func(id int64) string) error
	// UpdateIdentityProvider replaces p's fields if the row's updated_at is
	// still prev (ECONFLICT when another save came between); a nil seal keeps
	// the secret.
	UpdateIdentityProvider(ctx context.Context, p *Provider, prev time.Time, seal func(id int64) string) error
	// DeleteIdentityProvider deletes a provider no account is linked to;
	// ECONFLICT when some account is.
	DeleteIdentityProvider(ctx context.Context, id int64) error
	// SessionActive reports whether session id of userID is still signed in.
	SessionActive(ctx context.Context, id string, userID int64, now time.Time) (bool, error)
	// CountIdentityLinks counts the accounts linked to a provider.
	CountIdentityLinks(ctx context.Context, idpID int64) (int, error)

	// CreateOIDCState stores a pending authorization request.
	CreateOIDCState(ctx context.Context, st *State) error
	// ConsumeOIDCState deletes and returns the state with stateHash, atomically,
	// so that it can be used at most once.
	ConsumeOIDCState(ctx context.Context, stateHash string) (*State, error)
	// DeleteExpiredOIDCStates drops states that expired before now.
	DeleteExpiredOIDCStates(ctx context.Context, now time.Time) (int64, error)

	// FindIdentityLink finds the link of (idpID, subject).
	FindIdentityLink(ctx context.Context, idpID int64, subject string) (*Link, error)
	// FindUserIdentityLink finds userID's link to idpID.
	FindUserIdentityLink(ctx context.Context, userID, idpID int64) (*Link, error)
	// CreateIdentityLink inserts l and sets its ID; ECONFLICT when the identity or
	// the (user, provider) pair is already linked.
	CreateIdentityLink(ctx context.Context, l *Link) error
	// TouchIdentityLink sets a link's last_login.
	TouchIdentityLink(ctx context.Context, id int64, at time.Time) error
	// ListIdentityLinks returns userID's links with provider fields, by link id.
	ListIdentityLinks(ctx context.Context, userID int64) ([]*Link, error)
	// DeleteIdentityLink removes userID's link to idpID unless it is the last way
	// to sign in (no password and no other link): then EINVALID with lastMethodMsg.
	// The check and the delete are one transaction serialised on the user row.
	DeleteIdentityLink(ctx context.Context, userID, idpID int64, lastMethodMsg string) error

	// FindUserByID returns ENOTFOUND for an unknown user.
	FindUserByID(ctx context.Context, id int64) (*account.User, error)
	// FindUserByUsername looks the lower-cased username up.
	FindUserByUsername(ctx context.Context, username string) (*account.User, error)
	// FindUserByEmail looks the lower-cased email up.
	FindUserByEmail(ctx context.Context, email string) (*account.User, error)
	// SyncUserFromIdP sets name and, when email is not empty, email; verified
	// marks the email as verified. ECONFLICT when the email is taken.
	SyncUserFromIdP(ctx context.Context, userID int64, name, email string, verified bool, at time.Time) error
	// DeleteUserWithoutCredentials deletes a user that has no password and no
	// link, undoing an SSO account creation whose link could not be stored.
	DeleteUserWithoutCredentials(ctx context.Context, userID int64) error
}
