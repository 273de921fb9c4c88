package mfa

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/secret"
)

// Store is what the MFA rules need from storage. Every update that spends a
// code or a try is conditional in the database, so it holds across instances.
type Store interface {
	MFAEnabled(ctx context.Context, userID int64) (bool, error)
	MFAEnabledUsers(ctx context.Context, userIDs []int64) (map[int64]bool, error)
	// FindMFAFactor returns ENOTFOUND when the user has no factor.
	FindMFAFactor(ctx context.Context, userID int64) (*MFAFactor, error)
	PutMFASetup(ctx context.Context, userID int64, ciphertext string, now, expiresAt time.Time) error
	// ClaimMFASetupAttempt returns ENOTFOUND when no setup with tries left exists.
	ClaimMFASetupAttempt(ctx context.Context, userID int64, now time.Time, maxAttempts int) (*MFASetup, error)
	DeleteMFASetup(ctx context.Context, userID int64) error
	// EnableMFA returns ECONFLICT when the user already has a factor.
	EnableMFA(ctx context.Context, userID int64, ciphertext string, lastUsedStep int64, codeHashes []string, now time.Time) error
	AdvanceTOTPStep(ctx context.Context, userID, step int64) (bool, error)
	DeleteMFA(ctx context.Context, userID int64, keepSessionID string) (had bool, sessionsEnded int, err error)
	ListUnusedBackupCodes(ctx context.Context, userID int64) ([]BackupCode, error)
	UseBackupCode(ctx context.Context, userID, id int64, now time.Time) (bool, error)
	ReplaceBackupCodes(ctx context.Context, userID int64, codeHashes []string, now time.Time) error
	BackupCodeStats(ctx context.Context, userID int64) (BackupCodeStats, error)
	// DeleteAllPasskeys removes the user's passkeys (they are second factors
	// too) and returns how many.
	DeleteAllPasskeys(ctx context.Context, userID int64) (int64, error)
}

// Verification methods, as Verify reports them.
const (
	MethodTOTP       = "totp"
	MethodBackupCode = "backup_code"
)

// Enrolment limits.
const (
	SetupTTL         = 10 * time.Minute
	MaxSetupAttempts = 5
)

// DefaultIssuer names the service in authenticator apps when none is configured.
const DefaultIssuer = "Trailpass"

// Endurain's messages.
const (
	msgAlreadyEnabled = "MFA is already enabled for this user"
	msgNotEnabled     = "MFA is not enabled for this user"
	msgNoSetup        = "No MFA setup in progress. Please run setup first."
	msgInvalidCode    = "Invalid MFA code"
)

// Service holds the MFA rules shared by the API, the console and the CLI.
type Service struct {
	Store    Store
	Events   account.EventStore // required: factor changes are recorded
	Keyring  *secret.Keyring
	Hasher   *secret.Hasher
	Throttle *auth.Throttle
	// Lockout is the per-account failure policy; zero means auth.MFALockout.
	Lockout auth.LockoutPolicy
	Issuer  string       // empty means DefaultIssuer
	Logger  *slog.Logger // required; where failures to record events go
	Now     func() time.Time
	// Recent enforces the recent-authentication rule on setup, enable,
	// backup-code regeneration and reset; nil refuses them.
	Recent account.RecentAuthChecker
	// Notices queues security notices with the change they report; nil sends none.
	Notices account.Notifier
}

// LowBackupCodes is the count of unused backup codes at or below which using
// one sends the user a notice.
const LowBackupCodes = 2

// notice returns ctx carrying a security notice of kind for the user.
func (s *Service) notice(ctx context.Context, userID int64, kind string, detail map[string]string) context.Context {
	return account.Notify(ctx, s.Notices, userID, account.Notice{Kind: kind, At: s.Now(), Detail: detail})
}

// Status is what GET /profile/mfa/status reports.
type Status struct {
	Enabled              bool
	BackupCodesRemaining int
}

// Setup is a pending enrolment as shown once to the user.
type Setup struct {
	Secret        string // base32, 32 characters
	SecretGrouped string // the same in groups of four, for typing
	QRCode        string // data:image/png;base64,…
	AppName       string // the issuer
	OTPAuthURI    string
}

// BackupStatus is what GET /profile/mfa/backup-codes/status reports.
type BackupStatus struct {
	Total, Unused int
	CreatedAt     *time.Time
}

// Regeneration limits per user: RegenerateRate calls, and one at a time (a hold
// that lapses after RegenerateHold should an instance die mid-way).
var (
	RegenerateRate = auth.RateLimit{Requests: 5, Window: time.Hour}
	RegenerateHold = 30 * time.Second
)

func (s *Service) issuer() string {
	if s.Issuer == "" {
		return DefaultIssuer
	}
	return s.Issuer
}

func (s *Service) lockout() auth.LockoutPolicy {
	if s.Lockout == (auth.LockoutPolicy{}) {
		return auth.MFALockout
	}
	return s.Lockout
}

// The bindings tie each sealed secret to its row and purpose.
// SetupBinding and FactorBinding bind a sealed TOTP secret to its row, so a
// ciphertext copied to another user's row does not open.
func SetupBinding(userID int64) string  { return "mfa_setups.secret:" + strconv.FormatInt(userID, 10) }
func FactorBinding(userID int64) string { return "mfa_factors.secret:" + strconv.FormatInt(userID, 10) }
func lockKey(userID int64) string       { return "mfa:user:" + strconv.FormatInt(userID, 10) }

// BackupCodeBinding binds a backup code's MAC to its user, so a hash copied to
// another user's rows does not match.
func BackupCodeBinding(userID int64) string { return "backup_codes:" + strconv.FormatInt(userID, 10) }

// Enabled reports whether the user has MFA; sign-in asks before issuing tokens.
func (s *Service) Enabled(ctx context.Context, userID int64) (bool, error) {
	return s.Store.MFAEnabled(ctx, userID)
}

// EnabledUsers reports which of the users have MFA, in one query.
func (s *Service) EnabledUsers(ctx context.Context, userIDs []int64) (map[int64]bool, error) {
	return s.Store.MFAEnabledUsers(ctx, userIDs)
}

// Status reports whether MFA is on and how many backup codes are left.
func (s *Service) Status(ctx context.Context, userID int64) (Status, error) {
	on, err := s.Store.MFAEnabled(ctx, userID)
	if err != nil || !on {
		return Status{}, err
	}
	st, err := s.Store.BackupCodeStats(ctx, userID)
	if err != nil {
		return Status{}, err
	}
	return Status{Enabled: true, BackupCodesRemaining: st.Remaining}, nil
}

// BeginSetup starts an enrolment: a new secret is sealed into the database for
// SetupTTL (replacing an earlier pending one), so any instance can finish it.
// Returns EINVALID "MFA is already enabled for this user". Enrolling a factor
// changes how the account signs in (ASVS 7.5.1), so it needs c's recent
// authentication: a stolen session must not lock the owner out with its own app.
func (s *Service) BeginSetup(ctx context.Context, c *account.Caller, u *account.User) (*Setup, error) {
	if err := account.RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return nil, err
	}
	on, err := s.Store.MFAEnabled(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if on {
		return nil, account.Errorf(account.EINVALID, msgAlreadyEnabled)
	}
	sec := NewSecret()
	uri := OTPAuthURI(s.issuer(), u.Username, sec)
	qr, err := QRCodeDataURI(uri)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if err := s.Store.PutMFASetup(ctx, u.ID, s.Keyring.Seal([]byte(sec), SetupBinding(u.ID)), now, now.Add(SetupTTL)); err != nil {
		return nil, err
	}
	return &Setup{Secret: sec, SecretGrouped: GroupSecret(sec), QRCode: qr, AppName: s.issuer(), OTPAuthURI: uri}, nil
}

// Enable finishes an enrolment with the first code from the authenticator and
// returns the new backup codes, which are shown once and stored only hashed. A
// wrong code keeps the setup for up to MaxSetupAttempts tries in all.
// Returns EINVALID "No MFA setup in progress. Please run setup first.",
// "MFA is already enabled for this user" or "Invalid MFA code". Like the
// setup, it needs c's recent authentication (the code proves the new factor,
// not the user).
func (s *Service) Enable(ctx context.Context, c *account.Caller, userID int64, code string) ([]string, error) {
	if err := account.RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return nil, err
	}
	now := s.Now()
	setup, err := s.Store.ClaimMFASetupAttempt(ctx, userID, now, MaxSetupAttempts)
	if account.ErrorCode(err) == account.ENOTFOUND {
		return nil, account.Errorf(account.EINVALID, msgNoSetup)
	} else if err != nil {
		return nil, err
	}
	if on, err := s.Store.MFAEnabled(ctx, userID); err != nil {
		return nil, err
	} else if on {
		return nil, account.Errorf(account.EINVALID, msgAlreadyEnabled)
	}
	raw, err := s.Keyring.Open(setup.SecretCiphertext, SetupBinding(userID))
	if err != nil {
		return nil, fmt.Errorf("open mfa setup secret: %w", err)
	}
	key, err := DecodeSecret(string(raw))
	if err != nil {
		return nil, err
	}
	step, ok := Match(key, strings.TrimSpace(code), now)
	if !ok {
		if setup.Attempts >= MaxSetupAttempts {
			if err := s.Store.DeleteMFASetup(ctx, userID); err != nil {
				return nil, err
			}
		}
		return nil, account.Errorf(account.EINVALID, msgInvalidCode)
	}
	codes, hashes := s.newBackupCodes(userID)
	err = s.Store.EnableMFA(s.notice(ctx, userID, account.NoticeMFAEnabled, nil), userID, s.Keyring.Seal(raw, FactorBinding(userID)), step, hashes, now)
	if account.ErrorCode(err) == account.ECONFLICT {
		return nil, account.Errorf(account.EINVALID, msgAlreadyEnabled)
	} else if err != nil {
		return nil, err
	}
	s.event(ctx, userID, account.EventMFAEnabled, nil)
	return codes, nil
}

// newBackupCodes returns fresh codes for the user and their keyed hashes
// (secret.Keyring.CodeMAC) of the normalised form, which is what verification
// hashes. The codes are random, so a MAC is enough, and it keeps the password
// hasher, which sign-ins share, free: ten argon2id hashes per call let one
// user's loop of regenerations slow everyone's sign-in thirtyfold.
func (s *Service) newBackupCodes(userID int64) (codes, hashes []string) {
	codes = NewBackupCodes(BackupCodeCount)
	hashes = make([]string, len(codes))
	for i, c := range codes {
		norm, _, _ := NormalizeBackupCode(c)
		hashes[i] = s.Keyring.CodeMAC(norm, BackupCodeBinding(userID))
	}
	return codes, hashes
}

// Verify is the one check behind the MFA step of sign-in, the step-up and
// disable. It takes a TOTP code (exactly six digits) or a backup code and
// returns MethodTOTP or MethodBackupCode. Each code is accepted once, even under
// concurrent requests on several instances. Failures count against a
// per-account lockout checked first.
// Returns ETOOMANY (with RetryAfter) while locked, EINVALID "MFA is not enabled
// for this user", or EINVALID "Invalid MFA code" for a wrong, stale or replayed code.
func (s *Service) Verify(ctx context.Context, userID int64, code string) (string, error) {
	if err := s.Throttle.Attempt(ctx, lockKey(userID), s.lockout()); err != nil {
		return "", err
	}
	f, err := s.Store.FindMFAFactor(ctx, userID)
	if account.ErrorCode(err) == account.ENOTFOUND {
		return "", account.Errorf(account.EINVALID, msgNotEnabled)
	} else if err != nil {
		return "", err
	}
	code = strings.TrimSpace(code)
	var method string
	if isTOTPInput(code) {
		method = MethodTOTP
		err = s.verifyTOTP(ctx, f, code)
	} else {
		method = MethodBackupCode
		err = s.verifyBackupCode(ctx, userID, code)
	}
	if err != nil {
		return "", err
	}
	if err := s.Throttle.Succeeded(ctx, lockKey(userID)); err != nil {
		return "", err
	}
	return method, nil
}

// WellFormed reports whether code has the shape of a TOTP code (six digits) or
// of a backup code, the only inputs sign-in checks at all.
func (s *Service) WellFormed(code string) bool {
	code = strings.TrimSpace(code)
	if isTOTPInput(code) {
		return true
	}
	_, _, ok := NormalizeBackupCode(code)
	return ok
}

func (s *Service) verifyTOTP(ctx context.Context, f *MFAFactor, code string) error {
	raw, err := s.Keyring.Open(f.SecretCiphertext, FactorBinding(f.UserID))
	if err != nil {
		return fmt.Errorf("open mfa secret: %w", err)
	}
	key, err := DecodeSecret(string(raw))
	if err != nil {
		return err
	}
	step, ok := Match(key, code, s.Now())
	if !ok {
		return account.Errorf(account.EINVALID, msgInvalidCode)
	}
	advanced, err := s.Store.AdvanceTOTPStep(ctx, f.UserID, step)
	if err != nil {
		return err
	}
	if !advanced {
		// A correct code whose step is already spent: someone is replaying it,
		// or lost a race against the request that used it.
		s.event(ctx, f.UserID, account.EventMFAReplay, map[string]any{"method": MethodTOTP})
		return account.Errorf(account.EINVALID, msgInvalidCode)
	}
	return nil
}

func (s *Service) verifyBackupCode(ctx context.Context, userID int64, input string) error {
	norm, legacy, ok := NormalizeBackupCode(input)
	if !ok {
		return account.Errorf(account.EINVALID, msgInvalidCode)
	}
	codes, err := s.Store.ListUnusedBackupCodes(ctx, userID)
	if err != nil {
		return err
	}
	// Check every hash, without stopping at a match, so the time taken does not
	// tell which code (or whether any) matched. A code in the current format is
	// checked against the MACs only; one in the legacy format only against the
	// argon2id hashes made before, so new codes never touch the password hasher.
	var match *BackupCode
	for i := range codes {
		h := codes[i].Hash
		switch {
		case secret.IsCodeMAC(h):
			if !legacy && s.Keyring.CheckCodeMAC(h, norm, BackupCodeBinding(userID)) {
				match = &codes[i]
			}
		case legacy:
			_, err := s.Hasher.Verify(ctx, h, norm)
			switch {
			case err == nil:
				match = &codes[i]
			case !errors.Is(err, secret.ErrMismatch):
				return fmt.Errorf("verify backup code: %w", err)
			}
		}
	}
	if match == nil {
		return account.Errorf(account.EINVALID, msgInvalidCode)
	}
	useCtx := ctx
	if left := len(codes) - 1; left <= LowBackupCodes {
		useCtx = s.notice(ctx, userID, account.NoticeBackupCodesLow, map[string]string{"remaining": strconv.Itoa(left)})
	}
	used, err := s.Store.UseBackupCode(useCtx, userID, match.ID, s.Now())
	if err != nil {
		return err
	}
	if !used {
		s.event(ctx, userID, account.EventMFAReplay, map[string]any{"method": MethodBackupCode})
		return account.Errorf(account.EINVALID, msgInvalidCode)
	}
	s.event(ctx, userID, account.EventBackupCodeUsed, map[string]any{"remaining": len(codes) - 1})
	return nil
}

// Disable removes the factor and the backup codes after checking a TOTP or
// backup code, and ends every other session of the user (keepSessionID stays),
// in one transaction. It returns how many sessions ended. Errors as Verify.
//
// The code it demands is itself an authentication at the account's highest
// level, made in this very request, so it is c's recent authentication: a
// prior step-up would spend the current TOTP step and make the user wait for
// the next one. A caller that is neither recent nor has the code gets nothing.
func (s *Service) Disable(ctx context.Context, c *account.Caller, userID int64, code, keepSessionID string) (int, error) {
	if c == nil {
		return 0, account.RequireRecentAuth(ctx, s.Recent, c)
	}
	method, err := s.Verify(ctx, userID, code)
	if err != nil {
		return 0, err
	}
	_, ended, err := s.Store.DeleteMFA(s.notice(ctx, userID, account.NoticeMFADisabled, nil), userID, keepSessionID)
	if err != nil {
		return 0, err
	}
	s.event(ctx, userID, account.EventMFADisabled, map[string]any{"method": method, "sessions_ended": ended})
	return ended, nil
}

// BackupCodesStatus counts the user's backup codes.
func (s *Service) BackupCodesStatus(ctx context.Context, userID int64) (BackupStatus, error) {
	st, err := s.Store.BackupCodeStats(ctx, userID)
	if err != nil {
		return BackupStatus{}, err
	}
	return BackupStatus{Total: st.Total, Unused: st.Remaining, CreatedAt: st.CreatedAt}, nil
}

// RegenerateBackupCodes replaces all of the user's backup codes and returns the
// new ones, shown once, with the time they were made. It needs c's recent
// authentication. Each user may regenerate RegenerateRate times, one call at a
// time, across instances.
// Returns EINVALID "MFA is not enabled for this user", or ETOOMANY (with
// RetryAfter) over the limit or while another regeneration runs.
func (s *Service) RegenerateBackupCodes(ctx context.Context, c *account.Caller, userID int64) ([]string, time.Time, error) {
	if err := account.RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return nil, time.Time{}, err
	}
	on, err := s.Store.MFAEnabled(ctx, userID)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !on {
		return nil, time.Time{}, account.Errorf(account.EINVALID, msgNotEnabled)
	}
	key := "backup-codes:user:" + strconv.FormatInt(userID, 10)
	limited := fmt.Sprintf("Backup codes can be regenerated %d times per hour. Please try again in %%d seconds.", RegenerateRate.Requests)
	// Refuse a client over the limit with reads alone, before the hold's writes.
	if err := s.Throttle.OverLimit(ctx, key, RegenerateRate); err != nil {
		return nil, time.Time{}, retryMessage(err, limited)
	}
	release, err := s.Throttle.Hold(ctx, key, RegenerateHold)
	if err != nil {
		return nil, time.Time{}, retryMessage(err, "Backup codes are already being regenerated. Please try again in %d seconds.")
	}
	defer release()
	if err := s.Throttle.Limit(ctx, key, RegenerateRate); err != nil {
		return nil, time.Time{}, retryMessage(err, limited)
	}
	codes, hashes := s.newBackupCodes(userID)
	now := s.Now()
	if err := s.Store.ReplaceBackupCodes(s.notice(ctx, userID, account.NoticeBackupCodesNew, nil), userID, hashes, now); err != nil {
		return nil, time.Time{}, err
	}
	s.event(ctx, userID, account.EventBackupCodesRenewed, nil)
	return codes, now, nil
}

// retryMessage gives an ETOOMANY error a message that says which limit was hit;
// format takes the seconds to wait. Other errors pass through.
func retryMessage(err error, format string) error {
	var e *account.Error
	if !errors.As(err, &e) || e.Code != account.ETOOMANY {
		return err
	}
	return &account.Error{Code: account.ETOOMANY, RetryAfter: e.RetryAfter, Message: fmt.Sprintf(format, e.RetryAfter)}
}

// Reset removes the user's MFA (factor, backup codes, pending setup, passkeys) for an
// operator or admin helping someone who lost their authenticator, and ends the
// user's sessions but keepSessionID, since whoever held the lost factor may hold
// one. Returns EINVALID "MFA is not enabled for this user" when there was
// nothing to remove. It needs c's recent authentication (the CLI passes
// account.Operator()).
func (s *Service) Reset(ctx context.Context, c *account.Caller, userID int64, keepSessionID string) (int, error) {
	if err := account.RequireRecentAuth(ctx, s.Recent, c); err != nil {
		return 0, err
	}
	delCtx := ctx
	if on, err := s.Store.MFAEnabled(ctx, userID); err == nil && on {
		delCtx = s.notice(ctx, userID, account.NoticeMFADisabled, nil)
	}
	// A lost passkey locks the user out as a lost phone does: the reset
	// removes every second factor.
	passkeys, err := s.Store.DeleteAllPasskeys(ctx, userID)
	if err != nil {
		return 0, err
	}
	had, ended, err := s.Store.DeleteMFA(delCtx, userID, keepSessionID)
	if err != nil {
		return 0, err
	}
	had = had || passkeys > 0
	if err := s.Throttle.Succeeded(ctx, lockKey(userID)); err != nil {
		return 0, err
	}
	if !had {
		return ended, account.Errorf(account.EINVALID, msgNotEnabled)
	}
	s.event(ctx, userID, account.EventMFAReset, map[string]any{"by": "operator", "sessions_ended": ended, "passkeys_removed": passkeys})
	return ended, nil
}

// event records a security event. Details never carry a secret or a code. The
// factor change has already happened, so a logging failure must not undo it.
// The user's own changes carry the requesting client's address and agent, as
// sign-ins do; a reset by an admin or operator carries none, since that client
// is not the user's.
func (s *Service) event(ctx context.Context, userID int64, typ string, detail map[string]any) {
	ev := &account.SecurityEvent{UserID: &userID, Type: typ, Detail: detail, CreatedAt: s.Now()}
	if c, ok := account.ClientFrom(ctx); ok && typ != account.EventMFAReset {
		ev.IPAddress, ev.UserAgent = c.IP, c.UserAgent
	}
	if err := s.Events.RecordSecurityEvent(ctx, ev); err != nil {
		s.Logger.WarnContext(ctx, "record security event", "type", typ, "err", err)
	}
}
