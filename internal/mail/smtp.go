package mail

import (
	"context"
	"fmt"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Security modes of the SMTP connection.
const (
	SecurityStartTLS = "starttls"
	SecurityTLS      = "tls"
	SecurityNone     = "none"
)

// SMTP is the mail server trailpass delivers through.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	Security string // SecurityStartTLS (default), SecurityTLS or SecurityNone
	From     string
	// Timeout bounds one delivery (connect, talk, send); it must stay well under
	// ClaimLease so a slow server cannot outlive the claim.
	Timeout time.Duration
}

// Enabled reports whether a mail server is configured.
func (c *SMTP) Enabled() bool { return c != nil && c.Host != "" }

func (c *SMTP) client() (*gomail.Client, error) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	opts := []gomail.Option{gomail.WithPort(c.Port), gomail.WithTimeout(timeout)}
	switch c.Security {
	case SecurityTLS:
		opts = append(opts, gomail.WithSSL())
	case SecurityNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(c.Username), gomail.WithPassword(c.Password))
	}
	return gomail.NewClient(c.Host, opts...)
}

// send delivers one message to one recipient.
func (c *SMTP) send(ctx context.Context, to string, m *Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(c.From); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	cl, err := c.client()
	if err != nil {
		return err
	}
	return cl.DialAndSendWithContext(ctx, msg)
}
