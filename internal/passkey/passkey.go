// Package passkey holds trailpass's WebAuthn rules: registering and managing
// a user's passkeys, passwordless sign-in, the passkey as a second factor of a
// pending sign-in, and step-up (recent authentication) with a passkey.
// Ceremony challenges are stored, bound to the session or sign-in ticket that
// began them, and consumed once whether the answer verifies or not, so any
// instance can finish a ceremony and no assertion is accepted twice.
// Signatures are verified by go-webauthn; HTTP lives in internal/httpapi.
package passkey

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/secret"
)

// ChallengeTTL is how long a begun ceremony can be finished.
const ChallengeTTL = 5 * time.Minute

// MaxNameLength bounds a passkey's name, in characters.
const MaxNameLength = 64

// Ceremony purposes: a challenge finishes only the ceremony it was begun for.
const (
	purposeRegister = "register"
	purposeLogin    = "login"
	purposeMFA      = "mfa"
	purposeReauth   = "reauth"
)

// LastMethodMessage refuses to remove the account's only way to sign in, in
// the words Endurain uses for unlinking the last provider.
const LastMethodMessage = "Cannot remove the last authentication method. Please set a password first."

const (
	msgFailed    = "Passkey verification failed"
	msgNoPasskey = "This account has no passkey"
)

// beginRate limits begun ceremonies per address: each one stores a row.
var beginRate = auth.RateLimit{Requests: 30, Window: time.Minute}

// Config is the relying party: the site's domain and the origins its pages
// are served from.
type Config struct {
	RPID        string
	DisplayName string
	Origins     []string
}

// ConfigFor derives the relying party from the public URL: its host name is
// the RP ID and its origin the one allowed origin. rpID and origins, when
// set, replace them (a proxy serving another name, several front ends).
func ConfigFor(publicURL *url.URL, rpID string, origins []string) Config {
	c := Config{RPID: rpID, DisplayName: "Trailpass", Origins: origins}
	if publicURL == nil {
		return c
	}
	host := publicURL.Hostname()
	origin := publicURL.Scheme + "://" + publicURL.Host
	// An RP ID cannot be an IP address. A loopback one means a local setup,
	// which browsers treat as secure under the name localhost.
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		host = "localhost"
		origin = publicURL.Scheme + "://" + net.JoinHostPort(host, publicURL.Port())
		if publicURL.Port() == "" {
			origin = publicURL.Scheme + "://" + host
		}
	}
	if c.RPID == "" {
		c.RPID = host
	}
	if len(c.Origins) == 0 {
		c.Origins = []string{origin}
	}
	return c
}

// Service holds the passkey rules: registration, management, and the
// ceremonies that sign in, complete an MFA step and renew recent
// authentication. Sessions are made by Auth, so they follow its rules.
type Service struct {
	Store    Store
	Users    account.Store
	Auth     *auth.Service
	Throttle *auth.Throttle
	Events   account.EventStore // required, as Logger
	// Notices queues the passkey-added notice with the new passkey; nil sends none.
	Notices account.Notifier
	Logger  *slog.Logger
	Now     func() time.Time

	rp *webauthn.WebAuthn
}

// New returns a Service for the relying party cfg; fill the other fields.
// When cfg is unusable (an RP ID that is an IP address, say) the error says
// why and the Service is still returned, with every ceremony refused, so a
// server without a domain still runs.
func New(cfg Config) (*Service, error) {
	rp, err := webauthn.New(&webauthn.Config{RPID: cfg.RPID, RPDisplayName: cfg.DisplayName, RPOrigins: cfg.Origins})
	if err != nil {
		return &Service{}, fmt.Errorf("passkeys disabled: relying party %q: %w (set TRAILPASS_WEBAUTHN_RP_ID)", cfg.RPID, err)
	}
	return &Service{rp: rp}, nil
}

// recentAuth is the recent-authentication rule, Auth's; nil (so failing
// closed) when Auth is not set.
func (s *Service) recentAuth() account.RecentAuthChecker {
	if s.Auth == nil {
		return nil
	}
	return s.Auth
}

// ready refuses ceremonies when the relying party could not be set up.
func (s *Service) ready() error {
	if s.rp == nil {
		return account.Errorf(account.EINVALID, "Passkeys are not available on this server")
	}
	return nil
}

// Info is a passkey as its owner sees it: never the key or the credential id.
type Info struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	CreatedAt     time.Time  `json:"created_at"`
	LastUsedAt    *time.Time `json:"last_used_at"`
	BackedUp      bool       `json:"backed_up"`
	Transports    []string   `json:"transports"`
	Authenticator *string    `json:"authenticator"`
}

func info(c *Credential) Info {
	i := Info{ID: c.ID, Name: c.Name, CreatedAt: c.CreatedAt, LastUsedAt: c.LastUsedAt, BackedUp: c.BackupState,
		Transports: c.Transports, Authenticator: authenticatorName(c.AAGUID)}
	if i.Transports == nil {
		i.Transports = []string{}
	}
	return i
}

// user adapts an account to the library's view of it.
type user struct {
	u      *account.User
	handle []byte
	creds  []*Credential
}

func (w *user) WebAuthnID() []byte   { return w.handle }
func (w *user) WebAuthnName() string { return w.u.Username }
func (w *user) WebAuthnDisplayName() string {
	if w.u.Name != "" {
		return w.u.Name
	}
	return w.u.Username
}
func (w *user) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, 0, len(w.creds))
	for _, c := range w.creds {
		tr := make([]protocol.AuthenticatorTransport, len(c.Transports))
		for i, t := range c.Transports {
			tr[i] = protocol.AuthenticatorTransport(t)
		}
		out = append(out, webauthn.Credential{ID: c.CredentialID, PublicKey: c.PublicKey, AttestationType: c.AttestationType,
			Transport: tr, Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: c.UserVerified,
				BackupEligible: c.BackupEligible, BackupState: c.BackupState},
			Authenticator: webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount}})
	}
	return out
}

// loadUser reads u's handle (made on first use when create is set) and passkeys.
func (s *Service) loadUser(ctx context.Context, u *account.User, create bool) (*user, error) {
	var handle []byte
	var err error
	if create {
		candidate := make([]byte, 32)
		rand.Read(candidate)
		handle, err = s.Store.EnsureUserHandle(ctx, u.ID, candidate)
	} else {
		handle, err = s.Store.UserHandle(ctx, u.ID)
	}
	if err != nil {
		return nil, err
	}
	creds, err := s.Store.ListPasskeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return &user{u: u, handle: handle, creds: creds}, nil
}

// begin stores the ceremony's session data under its challenge.
func (s *Service) begin(ctx context.Context, sd *webauthn.SessionData, purpose string, userID *int64, binding string) error {
	data, err := json.Marshal(sd)
	if err != nil {
		return fmt.Errorf("encode webauthn session: %w", err)
	}
	now := s.Now()
	return s.Store.PutChallenge(ctx, &Challenge{Hash: secret.HashToken(sd.Challenge), Purpose: purpose, UserID: userID,
		Binding: binding, Data: data, CreatedAt: now, ExpiresAt: now.Add(ChallengeTTL)})
}

// take consumes the ceremony the client's challenge names. A challenge that
// is unknown, used, expired, or begun by another session or sign-in is
// EINVALID, and so is a ceremony begun for another user than wantUser (if set).
func (s *Service) take(ctx context.Context, challenge, purpose, binding string, wantUser *int64) (*webauthn.SessionData, error) {
	c, err := s.Store.TakeChallenge(ctx, secret.HashToken(challenge), purpose, binding, s.Now())
	if account.ErrorCode(err) == account.ENOTFOUND {
		return nil, account.Errorf(account.EINVALID, "No passkey request is pending: it expired, was used, or belongs to another session")
	} else if err != nil {
		return nil, err
	}
	if wantUser != nil && (c.UserID == nil || *c.UserID != *wantUser) {
		return nil, account.Errorf(account.EINVALID, "No passkey request is pending: it expired, was used, or belongs to another session")
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Data, &sd); err != nil {
		return nil, fmt.Errorf("decode webauthn session: %w", err)
	}
	// The row's expiry, on the service's clock, is the one that counts.
	sd.Expires = time.Time{}
	return &sd, nil
}

// parseAssertion reads a PublicKeyCredential from navigator.credentials.get().
func parseAssertion(raw []byte) (*protocol.ParsedCredentialAssertionData, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, account.ValidationError(account.FieldError{Field: "credential", Message: "Field required"})
	}
	p, err := protocol.ParseCredentialRequestResponseBytes(raw)
	if err != nil {
		return nil, account.ValidationError(account.FieldError{Field: "credential", Message: "Not a valid passkey assertion"})
	}
	return p, nil
}

// BeginRegistration starts adding a passkey to u's account: options for
// navigator.credentials.create() asking for a discoverable credential, with
// user verification preferred and u's passkeys excluded. sessionID binds the
// ceremony to the caller's session. Adding a factor changes how the account
// signs in, so c must have authenticated recently, as for TOTP enrolment; the
// finish step needs no check of its own, since it can only complete a ceremony
// that c's session began here, within ChallengeTTL.
func (s *Service) BeginRegistration(ctx context.Context, c *account.Caller) (*protocol.CredentialCreation, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	if err := account.RequireRecentAuth(ctx, s.recentAuth(), c); err != nil {
		return nil, err
	}
	u, sessionID := c.User, c.SessionID
	wu, err := s.loadUser(ctx, u, true)
	if err != nil {
		return nil, err
	}
	exclude := make([]protocol.CredentialDescriptor, 0, len(wu.creds))
	for _, c := range wu.WebAuthnCredentials() {
		exclude = append(exclude, c.Descriptor())
	}
	opts, sd, err := s.rp.BeginRegistration(wu,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationPreferred}),
		webauthn.WithExclusions(exclude),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	uid := u.ID
	if err := s.begin(ctx, sd, purposeRegister, &uid, sessionID); err != nil {
		return nil, err
	}
	return opts, nil
}

// FinishRegistration verifies the authenticator's answer and stores the new
// passkey as name. EUNPROCESSABLE for a malformed credential or name, EINVALID
// when no registration of this session is pending or the answer does not
// verify, ECONFLICT when the credential is already registered.
func (s *Service) FinishRegistration(ctx context.Context, u *account.User, sessionID, name string, raw []byte, dev auth.Device) (*Info, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Passkey"
	}
	if utf8.RuneCountInString(name) > MaxNameLength {
		return nil, account.ValidationError(account.FieldError{Field: "name", Message: fmt.Sprintf("String should have at most %d characters", MaxNameLength)})
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, account.ValidationError(account.FieldError{Field: "credential", Message: "Field required"})
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(raw)
	if err != nil {
		return nil, account.ValidationError(account.FieldError{Field: "credential", Message: "Not a valid passkey registration"})
	}
	uid := u.ID
	sd, err := s.take(ctx, parsed.Response.CollectedClientData.Challenge, purposeRegister, sessionID, &uid)
	if err != nil {
		return nil, err
	}
	wu, err := s.loadUser(ctx, u, false)
	if err != nil {
		return nil, err
	}
	cred, err := s.rp.CreateCredential(wu, *sd, parsed)
	if err != nil {
		s.refused(ctx, u.ID, dev, "registration", err)
		return nil, account.Errorf(account.EINVALID, "The passkey could not be verified")
	}
	c := &Credential{UserID: u.ID, CredentialID: cred.ID, PublicKey: cred.PublicKey, AttestationType: cred.AttestationType,
		AAGUID: cred.Authenticator.AAGUID, SignCount: cred.Authenticator.SignCount, UserVerified: cred.Flags.UserVerified,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, Name: name, CreatedAt: s.Now()}
	for _, t := range cred.Transport {
		c.Transports = append(c.Transports, string(t))
	}
	// The notice is queued by the insert's own transaction.
	ctx = account.Notify(ctx, s.Notices, u.ID, account.Notice{Kind: account.NoticePasskeyAdded, At: s.Now(),
		Detail: map[string]string{"passkey": c.Name}})
	if err := s.Store.CreatePasskey(ctx, c); account.ErrorCode(err) == account.ECONFLICT {
		return nil, account.Errorf(account.ECONFLICT, "This passkey is already registered")
	} else if err != nil {
		return nil, err
	}
	s.event(ctx, &u.ID, account.EventPasskeyAdded, dev, map[string]any{"passkey_id": c.ID, "name": c.Name})
	i := info(c)
	return &i, nil
}

// List returns userID's passkeys, oldest first.
func (s *Service) List(ctx context.Context, userID int64) ([]Info, error) {
	creds, err := s.Store.ListPasskeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(creds))
	for _, c := range creds {
		out = append(out, info(c))
	}
	return out, nil
}

// Count returns how many passkeys userID has.
func (s *Service) Count(ctx context.Context, userID int64) (int, error) {
	return s.Store.CountPasskeys(ctx, userID)
}

// Rename names userID's passkey id. EUNPROCESSABLE for an empty or long name,
// ENOTFOUND unless the passkey is theirs.
func (s *Service) Rename(ctx context.Context, userID, id int64, name string, dev auth.Device) error {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > MaxNameLength {
		return account.ValidationError(account.FieldError{Field: "name", Message: fmt.Sprintf("String should have 1 to %d characters", MaxNameLength)})
	}
	if err := s.Store.RenamePasskey(ctx, userID, id, name); err != nil {
		return err
	}
	s.event(ctx, &userID, account.EventPasskeyRenamed, dev, map[string]any{"passkey_id": id, "name": name})
	return nil
}

// Delete removes userID's passkey id. ENOTFOUND unless it is theirs, EINVALID
// LastMethodMessage when it is the account's last way to sign in. Removing a
// factor needs c's recent authentication, as adding one does.
func (s *Service) Delete(ctx context.Context, c *account.Caller, id int64, dev auth.Device) error {
	if err := account.RequireRecentAuth(ctx, s.recentAuth(), c); err != nil {
		return err
	}
	userID := c.User.ID
	if err := s.Store.DeletePasskey(ctx, userID, id, LastMethodMessage); err != nil {
		return err
	}
	s.event(ctx, &userID, account.EventPasskeyRemoved, dev, map[string]any{"passkey_id": id})
	return nil
}

// BeginLogin starts a passwordless sign-in: options for
// navigator.credentials.get() with no allowed credentials, so the browser
// offers the passkeys it holds for this site.
func (s *Service) BeginLogin(ctx context.Context, dev auth.Device) (*protocol.CredentialAssertion, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	if err := s.Throttle.Limit(ctx, "passkey-begin:ip:"+dev.IP, beginRate); err != nil {
		return nil, err
	}
	opts, sd, err := s.rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("begin passkey login: %w", err)
	}
	if err := s.begin(ctx, sd, purposeLogin, nil, ""); err != nil {
		return nil, err
	}
	return opts, nil
}

// FinishLogin signs in with a passkey assertion, answering as a password
// sign-in does. A user-verified assertion is two factors in one and gives
// tokens; one without user verification is only possession, so an account
// with MFA gets a sign-in ticket for its second factor, as after a password.
// Every failure is EUNAUTHORIZED with one message, whatever the reason.
func (s *Service) FinishLogin(ctx context.Context, raw []byte, clientType string, dev auth.Device) (*auth.LoginResult, error) {
	if err := s.Throttle.Limit(ctx, "login:ip:"+dev.IP, auth.LoginRate); err != nil {
		return nil, err
	}
	parsed, err := parseAssertion(raw)
	if err != nil {
		return nil, err
	}
	sd, err := s.take(ctx, parsed.Response.CollectedClientData.Challenge, purposeLogin, "", nil)
	if account.ErrorCode(err) == account.EINVALID {
		s.event(ctx, nil, account.EventLoginFailed, dev, map[string]any{"reason": "passkey: no pending challenge"})
		return nil, account.Errorf(account.EUNAUTHORIZED, msgFailed)
	} else if err != nil {
		return nil, err
	}
	var owner *user
	var stored *Credential
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		c, err := s.Store.FindPasskeyByCredentialID(ctx, rawID)
		if err != nil {
			return nil, err
		}
		u, err := s.Users.FindUserByID(ctx, c.UserID)
		if err != nil {
			return nil, err
		}
		owner, err = s.loadUser(ctx, u, false)
		if err != nil {
			return nil, err
		}
		stored = c
		return owner, nil
	}
	_, cred, err := s.rp.ValidatePasskeyLogin(handler, *sd, parsed)
	if err != nil {
		var uid *int64
		if stored != nil {
			uid = &stored.UserID
		}
		s.refused(ctx, 0, dev, "login", err)
		s.event(ctx, uid, account.EventLoginFailed, dev, map[string]any{"reason": "passkey did not verify"})
		return nil, account.Errorf(account.EUNAUTHORIZED, msgFailed)
	}
	if err := s.recordUse(ctx, stored, cred, dev); err != nil {
		return nil, err
	}
	u := owner.u
	if !u.Active {
		s.event(ctx, &u.ID, account.EventLoginFailed, dev, map[string]any{"reason": "inactive"})
		return nil, account.Errorf(account.EUNAUTHORIZED, msgFailed)
	}
	res := &auth.LoginResult{Username: u.Username, User: u}
	if !parsed.Response.AuthenticatorData.Flags.HasUserVerified() {
		if on, err := s.Auth.MFAEnabled(ctx, u.ID); err != nil {
			return nil, err
		} else if on {
			res.MFARequired = true
			res.Ticket, err = s.Auth.NewLoginTicket(ctx, u, u.Username, clientType, auth.MethodPasskey, dev.IP)
			return res, err
		}
	}
	res.Tokens, err = s.Auth.CreateSession(ctx, u, auth.MethodPasskey, dev)
	return res, err
}

// recordUse refuses an assertion whose signature counter did not advance past
// the stored one (a cloned authenticator, or a replay that slipped past the
// challenge), and otherwise stores the new count and last use. The check and
// the write are one conditional update, so two concurrent uses of one count
// cannot both pass.
func (s *Service) recordUse(ctx context.Context, stored *Credential, cred *webauthn.Credential, dev auth.Device) error {
	ok := !cred.Authenticator.CloneWarning
	if ok {
		var err error
		ok, err = s.Store.UsePasskey(ctx, stored.ID, cred.Authenticator.SignCount, cred.Flags.BackupState, s.Now())
		if err != nil {
			return err
		}
	}
	if !ok {
		s.Logger.WarnContext(ctx, "passkey signature counter did not advance; refused", "user_id", stored.UserID,
			"passkey_id", stored.ID, "stored_count", stored.SignCount)
		s.event(ctx, &stored.UserID, account.EventPasskeyCounter, dev, map[string]any{"passkey_id": stored.ID, "stored_count": stored.SignCount})
		return account.Errorf(account.EUNAUTHORIZED, msgFailed)
	}
	return nil
}

// BeginMFA starts the passkey as the second step of a sign-in waiting for
// one (see auth.Service.PendingSignIn): options listing the account's
// passkeys, bound to that sign-in.
func (s *Service) BeginMFA(ctx context.Context, username, ticket string, dev auth.Device) (*protocol.CredentialAssertion, error) {
	t, err := s.Auth.PendingSignIn(ctx, username, ticket, dev)
	if err != nil {
		return nil, err
	}
	return s.beginFor(ctx, t.UserID, purposeMFA, t.Hash)
}

func (s *Service) beginFor(ctx context.Context, userID int64, purpose, binding string) (*protocol.CredentialAssertion, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	u, err := s.Users.FindUserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	wu, err := s.loadUser(ctx, u, false)
	if account.ErrorCode(err) == account.ENOTFOUND || (err == nil && len(wu.creds) == 0) {
		return nil, account.Errorf(account.EINVALID, msgNoPasskey)
	} else if err != nil {
		return nil, err
	}
	opts, sd, err := s.rp.BeginLogin(wu, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("begin passkey assertion: %w", err)
	}
	if err := s.begin(ctx, sd, purpose, &userID, binding); err != nil {
		return nil, err
	}
	return opts, nil
}

// FinishMFA completes the pending sign-in with a passkey assertion, under the
// same ticket rules as a TOTP code (auth.Service.VerifySecondFactor).
func (s *Service) FinishMFA(ctx context.Context, username, ticket string, raw []byte, dev auth.Device) (*auth.Tokens, error) {
	parsed, err := parseAssertion(raw)
	if err != nil {
		return nil, err
	}
	tok, _, err := s.Auth.VerifySecondFactor(ctx, username, ticket, dev, func(ctx context.Context, t *auth.LoginTicket) (string, error) {
		return auth.MethodPasskey, s.verifyFor(ctx, t.UserID, purposeMFA, t.Hash, parsed, dev)
	})
	return tok, err
}

// verifyFor checks an assertion of one of userID's passkeys against the
// ceremony begun for purpose and binding. EINVALID when it does not verify.
func (s *Service) verifyFor(ctx context.Context, userID int64, purpose, binding string, parsed *protocol.ParsedCredentialAssertionData, dev auth.Device) error {
	sd, err := s.take(ctx, parsed.Response.CollectedClientData.Challenge, purpose, binding, &userID)
	if err != nil {
		return err
	}
	u, err := s.Users.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	wu, err := s.loadUser(ctx, u, false)
	if err != nil {
		return err
	}
	cred, err := s.rp.ValidateLogin(wu, *sd, parsed)
	if err != nil {
		s.refused(ctx, userID, dev, purpose, err)
		return account.Errorf(account.EINVALID, msgFailed)
	}
	var stored *Credential
	for _, c := range wu.creds {
		if string(c.CredentialID) == string(cred.ID) {
			stored = c
		}
	}
	if stored == nil {
		return account.Errorf(account.EINVALID, msgFailed)
	}
	if err := s.recordUse(ctx, stored, cred, dev); err != nil {
		return account.Errorf(account.EINVALID, msgFailed)
	}
	return nil
}

// BeginReauth starts a step-up with one of p's passkeys, bound to p's session.
func (s *Service) BeginReauth(ctx context.Context, p *auth.Principal) (*protocol.CredentialAssertion, error) {
	return s.beginFor(ctx, p.User.ID, purposeReauth, p.Session.ID)
}

// FinishReauth verifies the step-up assertion and renews p's recent
// authentication. EINVALID when it does not verify.
func (s *Service) FinishReauth(ctx context.Context, p *auth.Principal, raw []byte, dev auth.Device) error {
	parsed, err := parseAssertion(raw)
	if err != nil {
		return err
	}
	if err := s.Throttle.Limit(ctx, "mfa:ip:"+dev.IP, auth.MFARate); err != nil {
		return err
	}
	if err := s.verifyFor(ctx, p.User.ID, purposeReauth, p.Session.ID, parsed, dev); err != nil {
		return err
	}
	return s.Auth.MarkStepUp(ctx, p, dev, auth.MethodPasskey)
}

// refused logs why the library rejected a ceremony; the client only hears
// that it failed.
func (s *Service) refused(ctx context.Context, userID int64, dev auth.Device, ceremony string, err error) {
	detail := err.Error()
	var perr *protocol.Error
	if errors.As(err, &perr) {
		detail = perr.Type + ": " + perr.Details + " " + perr.DevInfo
	}
	s.Logger.InfoContext(ctx, "passkey ceremony refused", "ceremony", ceremony, "user_id", userID, "ip", dev.IP, "reason", detail)
	if userID != 0 {
		s.event(ctx, &userID, account.EventPasskeyFailed, dev, map[string]any{"ceremony": ceremony})
	}
}

// event records a security event; a failure is logged, never shown to the user.
func (s *Service) event(ctx context.Context, userID *int64, typ string, dev auth.Device, detail map[string]any) {
	e := &account.SecurityEvent{UserID: userID, Type: typ, IPAddress: dev.IP, UserAgent: dev.UserAgent, Detail: detail, CreatedAt: s.Now()}
	if err := s.Events.RecordSecurityEvent(ctx, e); err != nil {
		s.Logger.WarnContext(ctx, "record security event", "type", typ, "err", err)
	}
}
