// Package signup lets people create their own accounts, with the email
// verification and admin approval the server settings ask for.
package signup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/secret"
)

// Sign-up messages, Endurain's words.
const (
	MsgDisabled             = "User sign-up is not enabled on this server"
	MsgCreated              = "User created successfully."
	MsgEmailSent            = " Email sent with verification instructions."
	MsgPendingApproval      = " Account is pending admin approval."
	MsgCanLogIn             = " You can now log in."
	MsgVerificationDisabled = "Email verification is not enabled"
	MsgBadTokenText         = "Invalid or expired sign up token"
	MsgEmailVerified        = "Email verified successfully."
	MsgNowPendingApproval   = " Your account is now pending admin approval."
)

// Store is what sign-up needs from storage.
type Store interface {
	ServerSettings(ctx context.Context) (*account.ServerSettings, error)
	// CreateSignUpUser stores u (as CreateUser) and, when tokenHash is set, its
	// verification token, with the mail ctx carries, in one transaction.
	CreateSignUpUser(ctx context.Context, u *account.User, tokenHash string, now, expiresAt time.Time) error
	// SignUpTokenUser returns the user of a valid, unspent verification token,
	// or an error wrapping ErrBadToken.
	SignUpTokenUser(ctx context.Context, tokenHash string, now time.Time) (int64, error)
	// VerifyEmailWithToken spends the token and marks the email verified
	// (activating the account when activate is set), queuing ctx's mail.
	VerifyEmailWithToken(ctx context.Context, tokenHash string, activate bool, now time.Time) (int64, error)
	FindUserByID(ctx context.Context, id int64) (*account.User, error)
	// ListNotifiableAdmins returns the active admins with a verified address.
	ListNotifiableAdmins(ctx context.Context) ([]*account.User, error)
}

// Request is the body of POST /api/v1/sign-up/request (Endurain's UserSignup):
// the profile fields plus the password.
type Request struct {
	Profile  profile.Update
	Password string
}

// Result is the answer to a sign-up or a verification.
type Result struct {
	Message                   string `json:"message"`
	EmailVerificationRequired bool   `json:"email_verification_required,omitempty"`
	AdminApprovalRequired     bool   `json:"admin_approval_required,omitempty"`
}

// Service lets people create their own accounts, as the server settings
// allow: straight away, after verifying their email, after an admin's
// approval, or both.
type Service struct {
	Store    Store
	Accounts *account.Service
	Mail     account.Mailer
	// PerAddress limits sign-ups per client address; required, as Mail (a
	// disabled mailer sends nothing).
	PerAddress account.Limiter
	Now        func() time.Time
}

// SignUp creates an account from in. The fields pass the same validation as
// PUT /profile. Refused with EFORBIDDEN MsgDisabled when sign-up is off,
// and EFORBIDDEN MsgEmailNotConfigured when verification is required but no
// mail server is configured (nothing is created then).
func (s *Service) SignUp(ctx context.Context, in Request, clientIP string) (*Result, error) {
	set, err := s.Store.ServerSettings(ctx)
	if err != nil {
		return nil, err
	}
	if !set.SignupEnabled {
		return nil, account.Errorf(account.EFORBIDDEN, MsgDisabled)
	}
	mailOn := s.Mail.Enabled()
	if set.SignupRequireEmailVerification && !mailOn {
		return nil, account.Errorf(account.EFORBIDDEN, account.MsgEmailNotConfigured)
	}
	if err := s.PerAddress.Limit(ctx, "signup:ip:"+clientIP); err != nil {
		return nil, err
	}
	nu := account.NewUser{Password: in.Password, Profile: in.Profile.ForNewUser()}
	if in.Profile.Name != nil {
		nu.Name = *in.Profile.Name
	}
	if in.Profile.Username != nil {
		nu.Username = *in.Profile.Username
	}
	if in.Profile.Email != nil {
		nu.Email = *in.Profile.Email
	}
	var missing []account.FieldError
	for _, f := range []struct{ name, v string }{{"name", nu.Name}, {"username", nu.Username}, {"email", nu.Email}, {"password", nu.Password}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, account.FieldError{Field: f.name, Message: "Field required", Type: "missing"})
		}
	}
	if len(missing) > 0 {
		return nil, account.ValidationError(missing...)
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
	var msgs []*account.OutboxMail
	res := &Result{Message: MsgCreated}
	if set.SignupRequireEmailVerification {
		token := secret.NewToken()
		tokenHash = secret.HashToken(token)
		m, err := s.Mail.Message(account.MailRequest{Kind: account.MailVerifyEmail, User: u, Token: token, TTL: account.SignUpTokenTTL})
		if err != nil {
			return nil, fmt.Errorf("render verification mail: %w", err)
		}
		msgs = append(msgs, m)
		res.Message += MsgEmailSent
		res.EmailVerificationRequired = true
	} else if set.SignupRequireAdminApproval && mailOn {
		// Nothing to verify: the approval waits from now on.
		msgs = append(msgs, s.approvalRequests(ctx, u)...)
	}
	if set.SignupRequireAdminApproval {
		res.Message += MsgPendingApproval
		res.AdminApprovalRequired = true
	}
	if !set.SignupRequireEmailVerification && !set.SignupRequireAdminApproval {
		res.Message += MsgCanLogIn
	}
	if err := s.Store.CreateSignUpUser(account.WithMail(ctx, msgs...), u, tokenHash, now, now.Add(account.SignUpTokenTTL)); err != nil {
		return nil, err
	}
	return res, nil
}

// approvalRequests renders the "an account waits for approval" mail to every
// active admin with a verified address. A failure to list them only means no
// mail: the admins still see the account in the user list.
func (s *Service) approvalRequests(ctx context.Context, u *account.User) []*account.OutboxMail {
	admins, err := s.Store.ListNotifiableAdmins(ctx)
	if err != nil {
		return nil
	}
	var out []*account.OutboxMail
	for _, a := range admins {
		m, err := s.Mail.Message(account.MailRequest{Kind: account.MailApprovalRequest, User: a,
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
func (s *Service) Confirm(ctx context.Context, token string) (*Result, error) {
	set, err := s.Store.ServerSettings(ctx)
	if err != nil {
		return nil, err
	}
	if !set.SignupRequireEmailVerification {
		return nil, account.Errorf(account.EPRECONDITION, MsgVerificationDisabled)
	}
	if !s.Mail.Enabled() {
		return nil, account.Errorf(account.EFORBIDDEN, account.MsgEmailNotConfigured)
	}
	if token == "" || len(token) > 200 {
		return nil, account.Errorf(account.EINVALID, MsgBadTokenText)
	}
	now := s.Now()
	th := secret.HashToken(token)
	userID, err := s.Store.SignUpTokenUser(ctx, th, now)
	if errors.Is(err, account.ErrBadToken) {
		return nil, account.Errorf(account.EINVALID, MsgBadTokenText)
	} else if err != nil {
		return nil, err
	}
	res := &Result{Message: MsgEmailVerified}
	var msgs []*account.OutboxMail
	if set.SignupRequireAdminApproval {
		if u, err := s.Store.FindUserByID(ctx, userID); err == nil && u.PendingAdminApproval {
			msgs = s.approvalRequests(ctx, u)
		}
		res.Message += MsgNowPendingApproval
		res.AdminApprovalRequired = true
	} else {
		res.Message += MsgCanLogIn
	}
	if _, err := s.Store.VerifyEmailWithToken(account.WithMail(ctx, msgs...), th, !set.SignupRequireAdminApproval, now); errors.Is(err, account.ErrBadToken) {
		return nil, account.Errorf(account.EINVALID, MsgBadTokenText)
	} else if err != nil {
		return nil, err
	}
	return res, nil
}
