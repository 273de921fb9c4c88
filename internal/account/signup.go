package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/secret"
)

// Sign-up messages, Endurain's words.
const (
	MsgSignUpDisabled        = "User sign-up is not enabled on this server"
	MsgSignUpCreated         = "User created successfully."
	MsgSignUpEmailSent       = " Email sent with verification instructions."
	MsgSignUpPendingApproval = " Account is pending admin approval."
	MsgSignUpCanLogIn        = " You can now log in."
	MsgVerificationDisabled  = "Email verification is not enabled"
	MsgSignUpBadTokenText    = "Invalid or expired sign up token"
	MsgEmailVerified         = "Email verified successfully."
	MsgNowPendingApproval    = " Your account is now pending admin approval."
	// MsgEmailNotVerifiedLogin answers a sign-in with the right password to an
	// account that still waits for its email to be verified.
	MsgEmailNotVerifiedLogin = "Email is not verified. Open the link sent to your email address to activate your account."
	// MsgPendingApprovalLogin answers a sign-in with the right password to an
	// account that waits for an admin's approval. It keeps Endurain's "Inactive
	// user" first, which its web app shows after its own 403 text.
	MsgPendingApprovalLogin = "Inactive user: your account is waiting for an administrator's approval."
)

// SignUpStore is what sign-up needs from storage.
type SignUpStore interface {
	ServerSettings(ctx context.Context) (*ServerSettings, error)
	// CreateSignUpUser stores u (as CreateUser) and, when tokenHash is set, its
	// verification token, with the mail ctx carries, in one transaction.
	CreateSignUpUser(ctx context.Context, u *User, tokenHash string, now, expiresAt time.Time) error
	// SignUpTokenUser returns the user of a valid, unspent verification token,
	// or an error wrapping ErrBadToken.
	SignUpTokenUser(ctx context.Context, tokenHash string, now time.Time) (int64, error)
	// VerifyEmailWithToken spends the token and marks the email verified
	// (activating the account when activate is set), queuing ctx's mail.
	VerifyEmailWithToken(ctx context.Context, tokenHash string, activate bool, now time.Time) (int64, error)
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// ListNotifiableAdmins returns the active admins with a verified address.
	ListNotifiableAdmins(ctx context.Context) ([]*User, error)
}

// SignUp is the body of POST /api/v1/sign-up/request (Endurain's UserSignup):
// the profile fields plus the password.
type SignUp struct {
	Profile  ProfileUpdate
	Password string
}

// SignUpResult is the answer to a sign-up or a verification.
type SignUpResult struct {
	Message                   string `json:"message"`
	EmailVerificationRequired bool   `json:"email_verification_required,omitempty"`
	AdminApprovalRequired     bool   `json:"admin_approval_required,omitempty"`
}

// SignUpService lets people create their own accounts, as the server settings
// allow: straight away, after verifying their email, after an admin's
// approval, or both.
type SignUpService struct {
	Store    SignUpStore
	Accounts *Service
	Mail     Mailer
	// PerAddress limits sign-ups per client address; required, as Mail (a
	// disabled mailer sends nothing).
	PerAddress Limiter
	Now        func() time.Time
}

// SignUp creates an account from in. The fields pass the same validation as
// PUT /profile. Refused with EFORBIDDEN MsgSignUpDisabled when sign-up is off,
// and EFORBIDDEN MsgEmailNotConfigured when verification is required but no
// mail server is configured (nothing is created then).
func (s *SignUpService) SignUp(ctx context.Context, in SignUp, clientIP string) (*SignUpResult, error) {
	set, err := s.Store.ServerSettings(ctx)
	if err != nil {
		return nil, err
	}
	if !set.SignupEnabled {
		return nil, Errorf(EFORBIDDEN, MsgSignUpDisabled)
	}
	mailOn := s.Mail.Enabled()
	if set.SignupRequireEmailVerification && !mailOn {
		return nil, Errorf(EFORBIDDEN, MsgEmailNotConfigured)
	}
	if err := s.PerAddress.Limit(ctx, "signup:ip:"+clientIP); err != nil {
		return nil, err
	}
	nu := NewUser{Password: in.Password, Profile: &in.Profile}
	if in.Profile.Name != nil {
		nu.Name = *in.Profile.Name
	}
	if in.Profile.Username != nil {
		nu.Username = *in.Profile.Username
	}
	if in.Profile.Email != nil {
		nu.Email = *in.Profile.Email
	}
	var missing []FieldError
	for _, f := range []struct{ name, v string }{{"name", nu.Name}, {"username", nu.Username}, {"email", nu.Email}, {"password", nu.Password}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, FieldError{Field: f.name, Message: "Field required", Type: "missing"})
		}
	}
	if len(missing) > 0 {
		return nil, ValidationError(missing...)
	}
	u, err := s.Accounts.PrepareUser(ctx, nu)
	if err != nil {
		return nil, err
	}
	// Endurain's states: verification keeps the account inactive until the
	// link is used, approval until an admin approves; with neither the account
	// is active and its email counts as verified.
	switch {
	case !set.SignupRequireEmailVerification && !set.SignupRequireAdminApproval:
		u.Active, u.EmailVerified = true, true
	default:
		u.Active = false
		u.PendingAdminApproval = set.SignupRequireAdminApproval
	}
	now := s.Now()
	var tokenHash string
	var msgs []*OutboxMail
	res := &SignUpResult{Message: MsgSignUpCreated}
	if set.SignupRequireEmailVerification {
		token := secret.NewToken()
		tokenHash = secret.HashToken(token)
		m, err := s.Mail.Message(MailRequest{Kind: MailVerifyEmail, User: u, Token: token, TTL: SignUpTokenTTL})
		if err != nil {
			return nil, fmt.Errorf("render verification mail: %w", err)
		}
		msgs = append(msgs, m)
		res.Message += MsgSignUpEmailSent
		res.EmailVerificationRequired = true
	} else if set.SignupRequireAdminApproval && mailOn {
		// Nothing to verify: the approval waits from now on.
		msgs = append(msgs, s.approvalRequests(ctx, u)...)
	}
	if set.SignupRequireAdminApproval {
		res.Message += MsgSignUpPendingApproval
		res.AdminApprovalRequired = true
	}
	if !set.SignupRequireEmailVerification && !set.SignupRequireAdminApproval {
		res.Message += MsgSignUpCanLogIn
	}
	if err := s.Store.CreateSignUpUser(WithMail(ctx, msgs...), u, tokenHash, now, now.Add(SignUpTokenTTL)); err != nil {
		return nil, err
	}
	return res, nil
}

// approvalRequests renders the "an account waits for approval" mail to every
// active admin with a verified address. A failure to list them only means no
// mail: the admins still see the account in the user list.
func (s *SignUpService) approvalRequests(ctx context.Context, u *User) []*OutboxMail {
	admins, err := s.Store.ListNotifiableAdmins(ctx)
	if err != nil {
		return nil
	}
	var out []*OutboxMail
	for _, a := range admins {
		m, err := s.Mail.Message(MailRequest{Kind: MailApprovalRequest, User: a,
			Detail: map[string]string{"name": u.Name, "username": u.Username, "email": u.Email}})
		if err == nil {
			out = append(out, m)
		}
	}
	return out
}

// Confirm verifies an email with the token from the verification mail. With
// approval required the account then waits for an admin (who is told);
// otherwise it becomes active. EPRECONDITION when verification is off.
func (s *SignUpService) Confirm(ctx context.Context, token string) (*SignUpResult, error) {
	set, err := s.Store.ServerSettings(ctx)
	if err != nil {
		return nil, err
	}
	if !set.SignupRequireEmailVerification {
		return nil, Errorf(EPRECONDITION, MsgVerificationDisabled)
	}
	if !s.Mail.Enabled() {
		return nil, Errorf(EFORBIDDEN, MsgEmailNotConfigured)
	}
	if token == "" || len(token) > 200 {
		return nil, Errorf(EINVALID, MsgSignUpBadTokenText)
	}
	now := s.Now()
	th := secret.HashToken(token)
	userID, err := s.Store.SignUpTokenUser(ctx, th, now)
	if errors.Is(err, ErrBadToken) {
		return nil, Errorf(EINVALID, MsgSignUpBadTokenText)
	} else if err != nil {
		return nil, err
	}
	res := &SignUpResult{Message: MsgEmailVerified}
	var msgs []*OutboxMail
	if set.SignupRequireAdminApproval {
		if u, err := s.Store.FindUserByID(ctx, userID); err == nil && u.PendingAdminApproval {
			msgs = s.approvalRequests(ctx, u)
		}
		res.Message += MsgNowPendingApproval
		res.AdminApprovalRequired = true
	} else {
		res.Message += MsgSignUpCanLogIn
	}
	if _, err := s.Store.VerifyEmailWithToken(WithMail(ctx, msgs...), th, !set.SignupRequireAdminApproval, now); errors.Is(err, ErrBadToken) {
		return nil, Errorf(EINVALID, MsgSignUpBadTokenText)
	} else if err != nil {
		return nil, err
	}
	return res, nil
}
