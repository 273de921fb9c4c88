package mail

import (
	"context"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/secret"
)

// Binding is the additional data outbox bodies are sealed with.
const Binding = "mail_outbox.body"

// Users is what the mailer reads about accounts.
type Users interface {
	FindUserByID(ctx context.Context, id int64) (*account.User, error)
	// NewSignInNotices reports whether the user wants the new-device notice.
	NewSignInNotices(ctx context.Context, userID int64) (bool, error)
}

// Mailer renders and seals messages for the outbox. It implements
// account.Notifier. A nil *Mailer, or one with no SMTP server, renders
// nothing.
type Mailer struct {
	SMTP      *SMTP
	Users     Users
	Keyring   *secret.Keyring
	Renderer  *Renderer
	PublicURL *url.URL
	Product   string // "trailpass" by default
	Logger    *slog.Logger
	Now       func() time.Time
}

// Enabled reports whether mail can be sent.
func (m *Mailer) Enabled() bool { return m != nil && m.SMTP.Enabled() }

func (m *Mailer) base(u *account.User) Data {
	p := m.Product
	if p == "" {
		p = "trailpass"
	}
	return Data{Product: p, PublicURL: m.PublicURL.String(), Name: u.Name, Username: u.Username, Email: u.Email}
}

// Compose renders kind for u (in u's language) to recipient and seals it.
func (m *Mailer) Compose(kind string, u *account.User, to string, d Data) (*account.OutboxMail, error) {
	b := m.base(u)
	d.Product, d.PublicURL, d.Name, d.Username, d.Email = b.Product, b.PublicURL, b.Name, b.Username, b.Email
	msg, err := m.Renderer.Render(kind, u.PreferredLanguage, d)
	if err != nil {
		return nil, err
	}
	return &account.OutboxMail{Kind: kind, Recipient: to, Body: m.Keyring.Seal(msg.encode(), Binding)}, nil
}

// Link returns the public URL of path with the token as its query.
func (m *Mailer) Link(path, token string) string {
	u := *m.PublicURL
	u.Path = m.PublicURL.Path + path
	u.RawQuery = url.Values{"token": {token}}.Encode()
	return u.String()
}

// Notice implements account.Notifier: it renders the notice for the user's
// verified address (or n.To) and returns ctx carrying it. Errors are logged
// and leave ctx as it was: a notice must never block the change it reports.
func (m *Mailer) Notice(ctx context.Context, userID int64, n account.Notice) context.Context {
	if !m.Enabled() {
		return ctx
	}
	u, err := m.Users.FindUserByID(ctx, userID)
	if err != nil {
		m.log(ctx, "notice: read user", err, n.Kind)
		return ctx
	}
	to := n.To
	if to == "" {
		if !u.EmailVerified || u.Email == "" {
			return ctx
		}
		to = u.Email
	}
	if n.Kind == account.NoticeNewSignIn {
		if on, err := m.Users.NewSignInNotices(ctx, userID); err != nil || !on {
			return ctx
		}
	}
	at := n.At
	if at.IsZero() {
		at = m.Now()
	}
	c, _ := account.ClientFrom(ctx)
	d := Data{When: at.UTC().Format("2006-01-02 15:04 UTC"), Device: orUnknown(c.Device), IP: orUnknown(c.IP), Detail: n.Detail}
	out, err := m.Compose(n.Kind, u, to, d)
	if err != nil {
		m.log(ctx, "notice: render", err, n.Kind)
		return ctx
	}
	return account.WithMail(ctx, out)
}

func (m *Mailer) log(ctx context.Context, msg string, err error, kind string) {
	if m.Logger != nil {
		m.Logger.ErrorContext(ctx, msg, "kind", kind, "err", err)
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Expiry describes a token lifetime for a message ("1 hour", "24 hours").
func Expiry(d time.Duration) string {
	h := int(d.Hours())
	if h == 1 {
		return "1 hour"
	}
	if h >= 1 {
		return strconv.Itoa(h) + " hours"
	}
	return strconv.Itoa(int(d.Minutes())) + " minutes"
}

// Message implements account.Mailer: reset and verification mail carry a link
// to the token on the web app's path.
func (m *Mailer) Message(r account.MailRequest) (*account.OutboxMail, error) {
	d := Data{Detail: r.Detail, Expiry: Expiry(r.TTL)}
	switch r.Kind {
	case account.MailPasswordReset:
		d.Link = m.Link("/reset-password", r.Token)
	case account.MailVerifyEmail:
		d.Link = m.Link("/verify-email", r.Token)
	}
	to := r.To
	if to == "" {
		to = r.User.Email
	}
	return m.Compose(r.Kind, r.User, to, d)
}
