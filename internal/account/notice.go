package account

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Kinds of mail trailpass sends. The security notices go to the account's
// verified address; reset and verification mail to the address asked for.
const (
	MailPasswordReset     = "password_reset"
	MailVerifyEmail       = "verify_email"
	MailApprovalRequest   = "approval_request"
	MailWelcome           = "welcome"
	NoticePasswordChanged = "notice_password_changed"
	NoticePasswordReset   = "notice_password_reset"
	NoticeEmailChanged    = "notice_email_changed"
	NoticeMFAEnabled      = "notice_mfa_enabled"
	NoticeMFADisabled     = "notice_mfa_disabled"
	NoticeBackupCodesNew  = "notice_backup_codes_regenerated"
	NoticeBackupCodesLow  = "notice_backup_codes_low"
	NoticeIdPLinked       = "notice_idp_linked"
	NoticeIdPUnlinked     = "notice_idp_unlinked"
	NoticeNewSignIn       = "notice_new_sign_in"
	NoticePasskeyAdded    = "notice_passkey_added"
)

// MsgEmailNotConfigured is Endurain's detail when mail cannot be sent.
const MsgEmailNotConfigured = "Email service is not configured"

// OutboxMail is one message ready for the outbox: its kind, recipient and
// sealed body (the rendered message, encrypted at rest because it may carry a
// link that works as a credential).
type OutboxMail struct {
	Kind      string
	Recipient string
	Body      string
}

// OutboxRow is one claimed message of the mail outbox.
type OutboxRow struct {
	ID        int64
	Kind      string
	Recipient string
	Body      string // sealed
	Attempts  int    // including the current one
	CreatedAt time.Time
	Claim     string
}

// ErrLeaseLost is returned when a sender no longer holds the claim on an
// outbox row (its lease ran out and another sender took it).
var ErrLeaseLost = errors.New("mail claim lost")

// Notice is a security notice about a change to an account.
type Notice struct {
	Kind string
	At   time.Time
	// Detail fills the message: provider name, codes left, new address.
	Detail map[string]string
	// To overrides the recipient (the old address after an email change).
	To string
}

// Notifier renders notices into outbox mail. Implementations return ctx
// unchanged when mail is not configured or the user has nothing to notify to.
type Notifier interface {
	// Notice returns ctx carrying the rendered notice for user userID; a store
	// write under that ctx queues it in the same transaction as the change.
	Notice(ctx context.Context, userID int64, n Notice) context.Context
}

// Notify is n.Notice, or ctx unchanged when there is no notifier.
func Notify(ctx context.Context, n Notifier, userID int64, notice Notice) context.Context {
	if n == nil {
		return ctx
	}
	return n.Notice(ctx, userID, notice)
}

type mailKey struct{}

// WithMail returns ctx carrying m in addition to any mail it already carries.
// The store inserts the mail a context carries into the outbox inside the
// transaction of the write it is given to, so the message exists exactly when
// the change does.
func WithMail(ctx context.Context, m ...*OutboxMail) context.Context {
	if len(m) == 0 {
		return ctx
	}
	prev := MailFrom(ctx)
	all := make([]*OutboxMail, 0, len(prev)+len(m))
	return context.WithValue(ctx, mailKey{}, append(append(all, prev...), m...))
}

// MailFrom returns the mail ctx carries.
func MailFrom(ctx context.Context) []*OutboxMail {
	m, _ := ctx.Value(mailKey{}).([]*OutboxMail)
	return m
}

// WithoutMail returns ctx carrying no mail, for writes that must not queue it.
func WithoutMail(ctx context.Context) context.Context {
	if MailFrom(ctx) == nil {
		return ctx
	}
	return context.WithValue(ctx, mailKey{}, []*OutboxMail(nil))
}

// Client is the device and address a request came from, as notices describe
// it.
type Client struct {
	IP        string
	UserAgent string
	Device    string // "Firefox on Linux (PC)"
}

type clientKey struct{}

// WithClient returns ctx carrying the requesting client; the HTTP layer sets it
// on every request so services that do not take a device can still say where
// a change came from.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientFrom returns the requesting client, if any.
func ClientFrom(ctx context.Context) (Client, bool) {
	c, ok := ctx.Value(clientKey{}).(Client)
	return c, ok
}

// NoticeSettingsStore keeps whether a user wants new-device notices.
type NoticeSettingsStore interface {
	NewSignInNotices(ctx context.Context, userID int64) (bool, error)
	SetNewSignInNotices(ctx context.Context, userID int64, on bool) error
}

// NoticeSettings is a user's choice of the one optional security notice, the
// new-device notice; the notices of changes cannot be turned off.
type NoticeSettings struct {
	Store NoticeSettingsStore
	// Recent enforces the recent-authentication rule on turning the notice
	// off; nil refuses it.
	Recent RecentAuthChecker
}

// NewSignIn reports whether userID wants the new-device notice.
func (n *NoticeSettings) NewSignIn(ctx context.Context, userID int64) (bool, error) {
	return n.Store.NewSignInNotices(ctx, userID)
}

// SetNewSignIn turns userID's new-device notice on or off. Off needs a recent
// authentication: the notice is what tells the owner that someone else signed
// in, so a stolen session must not be able to silence it first.
func (n *NoticeSettings) SetNewSignIn(ctx context.Context, c *Caller, userID int64, on bool) error {
	if !on {
		if err := RequireRecentAuth(ctx, n.Recent, c); err != nil {
			return err
		}
	}
	if err := n.Store.SetNewSignInNotices(ctx, userID, on); err != nil {
		return fmt.Errorf("notice settings: %w", err)
	}
	return nil
}
