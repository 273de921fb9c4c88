package idp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/secret"
)

// StateTTL is how long an authorization request may take.
const StateTTL = 10 * time.Minute

// Outcome is the result of a callback. On failure after the state was recognised,
// Callback still returns the Outcome with Mode, Redirect and SessionID set (and
// UserID zero), so the caller can pick the right error page.
type Outcome struct {
	Mode         string // ModeLogin or ModeLink
	UserID       int64
	ProviderID   int64
	ProviderName string
	ProviderSlug string
	// Created reports that the sign-in created a new account.
	Created bool
	// Redirect is the validated same-origin path the sign-in should end on, or "".
	Redirect string
	// SessionID is, in link mode, the session that started the link; the caller
	// should check it is still alive.
	SessionID string
	// Failure names, for a failed sign-in the user can understand, why it
	// failed: FailCancelled, FailInactive or FailNoAccount; "" otherwise.
	Failure string
}

// Failure reasons a sign-in page can show (see Outcome.Failure).
const (
	FailCancelled = "cancelled"  // the user refused consent at the provider
	FailInactive  = "inactive"   // the account is disabled
	FailNoAccount = "no_account" // no linked account, and auto-creation is off
)

// VerifierBinding binds a sealed PKCE verifier to its state row.
func VerifierBinding(stateHash string) string { return "oidc_states.code_verifier:" + stateHash }

// BeginLogin starts an SSO sign-in with the enabled provider slug. It returns the
// provider's authorization URL and a random browserBinding value the caller must
// set as an HttpOnly cookie and pass back to Callback. redirect is kept only when
// SafeRedirect accepts it. Returns ENOTFOUND "Identity provider not found or
// disabled", and EFORBIDDEN account.MsgSSODisabled while SSO is switched off.
func (s *Service) BeginLogin(ctx context.Context, slug, redirect string) (authURL, browserBinding string, err error) {
	if on, err := s.ssoEnabled(ctx); err != nil {
		return "", "", err
	} else if !on {
		return "", "", account.Errorf(account.EFORBIDDEN, account.MsgSSODisabled)
	}
	p, sealed, err := s.Store.FindIdentityProviderBySlug(ctx, slug)
	if err != nil {
		return "", "", err
	}
	if !p.Enabled {
		return "", "", account.Errorf(account.ENOTFOUND, "Identity provider not found or disabled")
	}
	st := &State{Mode: ModeLogin}
	if r := SafeRedirect(redirect); r != "" {
		st.Redirect = &r
	}
	return s.begin(ctx, p, sealed, st)
}

// BeginLink starts linking the enabled provider idpID to userID's account, from
// the session sessionID (the caller enforces the recent step-up). Returns
// ENOTFOUND "Identity provider not found or disabled" and ECONFLICT "Identity
// provider <name> is already linked to your account".
func (s *Service) BeginLink(ctx context.Context, userID int64, sessionID string, idpID int64) (authURL, browserBinding string, err error) {
	p, sealed, err := s.Store.FindIdentityProvider(ctx, idpID)
	if account.ErrorCode(err) == account.ENOTFOUND || (err == nil && !p.Enabled) {
		return "", "", account.Errorf(account.ENOTFOUND, "Identity provider not found or disabled")
	} else if err != nil {
		return "", "", err
	}
	if _, err := s.Store.FindUserIdentityLink(ctx, userID, idpID); err == nil {
		return "", "", account.Errorf(account.ECONFLICT, "Identity provider %s is already linked to your account", p.Name)
	} else if account.ErrorCode(err) != account.ENOTFOUND {
		return "", "", err
	}
	return s.begin(ctx, p, sealed, &State{Mode: ModeLink, UserID: &userID, SessionID: &sessionID})
}

func (s *Service) begin(ctx context.Context, p *Provider, sealed string, st *State) (string, string, error) {
	op, err := s.discover(ctx, p)
	if err != nil {
		return "", "", err
	}
	clientSecret, err := s.clientSecret(p, sealed)
	if err != nil {
		return "", "", err
	}
	state, binding, verifier := secret.NewToken(), secret.NewToken(), oauth2.GenerateVerifier()
	now := s.Now().UTC()
	st.StateHash = secret.HashToken(state)
	st.BindingHash = secret.HashToken(binding)
	st.IdPID = p.ID
	st.Nonce = secret.NewToken()
	st.CodeVerifier = s.Keyring.Seal([]byte(verifier), VerifierBinding(st.StateHash))
	st.CreatedAt, st.ExpiresAt = now, now.Add(StateTTL)
	if err := s.Store.CreateOIDCState(ctx, st); err != nil {
		return "", "", err
	}
	u := s.oauthConfig(p, op, clientSecret).AuthCodeURL(state, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(verifier))
	return u, binding, nil
}

// DeleteExpiredStates drops authorization requests that expired before now, for
// the cleanup loop.
func (s *Service) DeleteExpiredStates(ctx context.Context, now time.Time) (int64, error) {
	return s.Store.DeleteExpiredOIDCStates(ctx, now)
}

var errBadState = account.Errorf(account.EINVALID, "Invalid or expired state")

// Callback finishes a flow started by BeginLogin or BeginLink: it consumes the
// state (single use, even when the checks then fail), requires the browser
// binding, the provider and the expiry to match, exchanges the code with the PKCE
// verifier and verifies the ID token (signature, issuer, audience, expiry,
// nonce). errParam is the provider's error= parameter, if any.
//
// Login mode signs in the account linked to (provider, sub); else, when the
// provider allows it, the one account whose email matches a verified email
// claim (linking it); else, with auto_create_users, a new password-less account.
// Link mode links the identity to the state's account.
//
// Errors: EINVALID for a missing, replayed, foreign or expired state;
// EUNAUTHORIZED when the provider reports an error, the exchange fails or the ID
// token does not verify; EFORBIDDEN for an inactive account or when no account
// may be used; ECONFLICT when the identity belongs to another account (link mode)
// or an unlinked account already uses the email; ENOTFOUND for an unknown or
// disabled provider. No account or link is left behind by a failure. Sessions
// and the MFA step are the caller's.
func (s *Service) Callback(ctx context.Context, slug, code, state, browserBinding, errParam string) (*Outcome, error) {
	if state == "" {
		return nil, errBadState
	}
	st, err := s.Store.ConsumeOIDCState(ctx, secret.HashToken(state))
	if account.ErrorCode(err) == account.ENOTFOUND {
		return nil, errBadState
	} else if err != nil {
		return nil, err
	}
	out := &Outcome{Mode: st.Mode, ProviderID: st.IdPID}
	if st.Redirect != nil {
		out.Redirect = *st.Redirect
	}
	if st.SessionID != nil {
		out.SessionID = *st.SessionID
	}
	if browserBinding == "" || !secret.Equal(st.BindingHash, secret.HashToken(browserBinding)) || !s.Now().Before(st.ExpiresAt) {
		return out, errBadState
	}
	p, sealed, err := s.Store.FindIdentityProviderBySlug(ctx, slug)
	if account.ErrorCode(err) == account.ENOTFOUND || (err == nil && p.ID != st.IdPID) {
		return out, errBadState
	} else if err != nil {
		return out, err
	}
	out.ProviderName, out.ProviderSlug = p.Name, p.Slug
	if !p.Enabled {
		return out, account.Errorf(account.ENOTFOUND, "Identity provider not found or disabled")
	}
	if errParam != "" {
		slog.InfoContext(ctx, "identity provider returned an error", "idp", p.Slug, "error", truncate(errParam, 100))
		if errParam == "access_denied" { // RFC 6749 4.1.2.1: the user or the server said no
			out.Failure = FailCancelled
		}
		return out, account.Errorf(account.EUNAUTHORIZED, "Identity provider authentication failed")
	}
	id, err := s.exchange(ctx, p, sealed, st, code)
	if err != nil {
		return out, err
	}
	switch st.Mode {
	case ModeLogin:
		// Checked again here: SSO may have been switched off while the user was
		// at the provider.
		if on, serr := s.ssoEnabled(ctx); serr != nil {
			return out, serr
		} else if !on {
			return out, account.Errorf(account.EFORBIDDEN, account.MsgSSODisabled)
		}
		err = s.signIn(ctx, p, id, out)
	case ModeLink:
		if st.UserID == nil {
			return out, errBadState
		}
		// A link started by a session that has since been revoked (perhaps a
		// stolen one) must not complete.
		alive, aerr := s.Store.SessionActive(ctx, out.SessionID, *st.UserID, s.Now())
		if aerr != nil {
			return out, aerr
		}
		if !alive {
			return out, account.Errorf(account.EFORBIDDEN, "The session that started linking has ended; sign in and try again")
		}
		out.UserID = *st.UserID
		err = s.linkTo(ctx, p, id, *st.UserID)
	default:
		return out, errBadState
	}
	if err != nil {
		out.UserID = 0
		return out, err
	}
	return out, nil
}

// identity is what a verified ID token (plus userinfo) says about the user.
type identity struct {
	subject       string
	claims        map[string]any
	emailVerified bool
}

var errAuthFailed = account.Errorf(account.EUNAUTHORIZED, "Identity provider authentication failed")

// exchange trades the code for tokens with the PKCE verifier and verifies the ID
// token. The reasons of a failure go to the log, the client gets one message.
func (s *Service) exchange(ctx context.Context, p *Provider, sealed string, st *State, code string) (*identity, error) {
	if code == "" {
		return nil, errAuthFailed
	}
	verifier, err := s.Keyring.Open(st.CodeVerifier, VerifierBinding(st.StateHash))
	if err != nil {
		return nil, fmt.Errorf("open code verifier: %w", err)
	}
	op, err := s.discover(ctx, p)
	if err != nil {
		return nil, err
	}
	clientSecret, err := s.clientSecret(p, sealed)
	if err != nil {
		return nil, err
	}
	cctx := s.clientContext(ctx)
	tok, err := s.oauthConfig(p, op, clientSecret).Exchange(cctx, code, oauth2.VerifierOption(string(verifier)))
	if err != nil {
		// A provider may echo what it was sent (the client secret, the code) in
		// its error description: keep the description for diagnosis, without them.
		// The error's text carries the whole response body, so it is redacted too.
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response.StatusCode >= 500 {
			// No answer, or a broken one: the provider failed, not the sign-in.
			slog.WarnContext(ctx, "identity provider token endpoint failed", "idp", p.Slug, "error", redact(err.Error(), clientSecret, code, string(verifier)))
			return nil, unreachable(p)
		}
		desc := redact(re.ErrorDescription, clientSecret, code, string(verifier))
		reason := fmt.Sprintf("status %d, error %q: %s", re.Response.StatusCode, truncate(re.ErrorCode, 64), truncate(desc, 200))
		slog.InfoContext(ctx, "identity provider code exchange failed", "idp", p.Slug, "reason", reason)
		return nil, errAuthFailed
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		slog.InfoContext(ctx, "identity provider sent no id_token", "idp", p.Slug)
		return nil, errAuthFailed
	}
	idt, err := op.Verifier(&oidc.Config{ClientID: p.ClientID, Now: s.Now}).Verify(cctx, raw)
	if err != nil {
		slog.InfoContext(ctx, "id token verification failed", "idp", p.Slug, "error", err)
		return nil, errAuthFailed
	}
	if !secret.Equal(idt.Nonce, st.Nonce) {
		slog.InfoContext(ctx, "id token nonce mismatch", "idp", p.Slug)
		return nil, errAuthFailed
	}
	if idt.Subject == "" {
		return nil, errAuthFailed
	}
	id := &identity{subject: idt.Subject, claims: map[string]any{}}
	s.mergeUserinfo(cctx, p, op, tok, id)
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("decode id token claims: %w", err)
	}
	for k, v := range claims { // the signed ID token wins over userinfo
		id.claims[k] = v
	}
	id.emailVerified = claimBool(id.claims["email_verified"])
	return id, nil
}

// mergeUserinfo adds the userinfo claims, for providers that keep profile claims
// out of the ID token. A response for another subject is ignored (OIDC Core
// 5.3.2); failures are only logged.
func (s *Service) mergeUserinfo(ctx context.Context, p *Provider, op *oidc.Provider, tok *oauth2.Token, id *identity) {
	endpoint := op.UserInfoEndpoint()
	if p.UserinfoEndpoint != nil {
		endpoint = *p.UserinfoEndpoint
	}
	if endpoint == "" {
		return
	}
	info, err := fetchUserinfo(ctx, endpoint, tok)
	if err != nil {
		slog.InfoContext(ctx, "userinfo request failed", "idp", p.Slug, "error", err)
		return
	}
	if sub, _ := info["sub"].(string); sub != id.subject {
		slog.InfoContext(ctx, "userinfo subject differs from the id token", "idp", p.Slug)
		return
	}
	for k, v := range info {
		id.claims[k] = v
	}
}

func claimBool(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return b == "true" // some providers send the claim as a string
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// redact replaces each non-empty sensitive value in s.
func redact(s string, sensitive ...string) string {
	for _, v := range sensitive {
		if v != "" {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}
