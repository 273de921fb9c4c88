package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trailpass/trailpass/internal/secret"
)

// Token lifetimes, as Endurain's.
const (
	ResetTokenTTL  = time.Hour
	SignUpTokenTTL = 24 * time.Hour
)

// Messages of the reset and sign-up routes, Endurain's words.
const (
	MsgResetRequested  = "If the email exists in the system, a password reset link has been sent."
	MsgResetDone       = "Password reset successful"
	MsgResetBadToken   = "Invalid or expired password reset token"
	MsgTooManyRequests = "Too many requests, try again later"
)

// MailRequest asks the mailer for one message to a user.
type MailRequest struct {
	Kind   string
	User   *User
	To     string // default: User.Email
	Token  string // fills the link of reset and verification mail
	TTL    time.Duration
	Detail map[string]string
}

// Mailer renders mail for the outbox. A disabled mailer means no SMTP server is
// configured: mail-dependent features refuse with MsgEmailNotConfigured.
type Mailer interface {
	Notifier
	Enabled() bool
	Message(r MailRequest) (*OutboxMail, error)
}

// Limiter counts one request on key and returns ETOOMANY past its limit.
type Limiter interface {
	Limit(ctx context.Context, key string) error
}

// RecoveryStore is what the password reset needs from storage.
type RecoveryStore interface {
	FindUserByEmail(ctx context.Context, email string) (*User, error)
	CreatePasswordResetToken(ctx context.Context, userID int64, hash string, now, expiresAt time.Time) error
	// PasswordResetTokenUser returns the user of a valid, unspent token, or an
	// error wrapping ErrBadToken.
	PasswordResetTokenUser(ctx context.Context, tokenHash string, now time.Time) (int64, error)
	// ResetPassword spends the token, writes the password (moving the
	// credential version), ends every session and queues ctx's mail, in one
	// transaction; it returns the user's id, or an error wrapping ErrBadToken.
	ResetPassword(ctx context.Context, tokenHash, passwordHash string, now time.Time) (int64, error)
}

// ErrBadToken is what stores return (wrapped) for an unknown, spent or expired
// token.
var ErrBadToken = errors.New("account: invalid token")

// RecoveryService resets forgotten passwords by email.
type RecoveryService struct {
	Store  RecoveryStore
	Mail   Mailer
	Hasher *secret.Hasher
	// PerAddress limits requests per client address, PerEmail per address asked
	// for; both count every request, known address or not. Both are required,
	// as Mail (a disabled mailer refuses resets).
	PerAddress, PerEmail Limiter
	Now                  func() time.Time
	// Floor is the least time a reset request takes, so that the answer for a
	// known address (which writes a token and a message) cannot be told from
	// that for an unknown one by its timing.
	Floor time.Duration
}

// RequestReset sends a reset link to email if an active account has it. The
// answer is the same whether it does or not; only throttling (counted the same
// for every address) and a missing mail server answer otherwise.
func (s *RecoveryService) RequestReset(ctx context.Context, email, clientIP string) error {
	if !s.Mail.Enabled() {
		return Errorf(EFORBIDDEN, MsgEmailNotConfigured)
	}
	start := time.Now()
	email = NormalizeEmail(email)
	if err := ValidateEmail(email); err != nil {
		return ValidationError(*err)
	}
	if err := s.PerAddress.Limit(ctx, "reset:ip:"+clientIP); err != nil {
		return err
	}
	if err := s.PerEmail.Limit(ctx, "reset:email:"+email); err != nil {
		return err
	}
	err := s.queueReset(ctx, email)
	if d := s.Floor - time.Since(start); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	return err
}

func (s *RecoveryService) queueReset(ctx context.Context, email string) error {
	u, err := s.Store.FindUserByEmail(ctx, email)
	if ErrorCode(err) == ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if !u.Active {
		return nil // as Endurain: no mail, same answer
	}
	token := secret.NewToken()
	msg, err := s.Mail.Message(MailRequest{Kind: MailPasswordReset, User: u, Token: token, TTL: ResetTokenTTL})
	if err != nil {
		return fmt.Errorf("render reset mail: %w", err)
	}
	now := s.Now()
	if err := s.Store.CreatePasswordResetToken(WithMail(ctx, msg), u.ID, secret.HashToken(token), now, now.Add(ResetTokenTTL)); err != nil {
		return fmt.Errorf("create reset token: %w", err)
	}
	return nil
}

// ConfirmReset sets a new password with a reset token: the token works once
// and within ResetTokenTTL; the password must pass the policy; every session
// of the user ends and the credential version moves, so nothing signed in with
// the old password survives. MFA stays as it was. The user gets a notice.
func (s *RecoveryService) ConfirmReset(ctx context.Context, token, password string) error {
	if !s.Mail.Enabled() {
		return Errorf(EFORBIDDEN, MsgEmailNotConfigured)
	}
	if token == "" || len(token) > 200 {
		return Errorf(EINVALID, MsgResetBadToken)
	}
	if err := ValidatePassword(password); err != nil {
		return err
	}
	hash, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	now := s.Now()
	th := secret.HashToken(token)
	// The notice needs the user, so the token is looked up first; the reset
	// spends it again under the transaction's check, so a race loses cleanly.
	userID, err := s.Store.PasswordResetTokenUser(ctx, th, now)
	if errors.Is(err, ErrBadToken) {
		return Errorf(EINVALID, MsgResetBadToken)
	} else if err != nil {
		return err
	}
	ctx = Notify(ctx, s.Mail, userID, Notice{Kind: NoticePasswordReset, At: now})
	if _, err := s.Store.ResetPassword(ctx, th, hash, now); errors.Is(err, ErrBadToken) {
		return Errorf(EINVALID, MsgResetBadToken)
	} else if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	return nil
}
