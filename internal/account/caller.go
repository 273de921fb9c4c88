package account

import (
	"context"
	"errors"
	"time"
)

// Caller is who asks for an operation: a signed-in user on one session, with
// when that session last proved its user (sign-in or step-up) and from which
// device; or the operator at the command line.
type Caller struct {
	User            *User
	SessionID       string
	AuthenticatedAt time.Time
	IP, UserAgent   string
	operator        bool
}

// Operator is the caller of an operator command (the CLI). Operators run on the
// server itself and are trusted: they pass the recent-authentication rule. The
// one constructor keeps every such bypass greppable.
func Operator() *Caller { return &Caller{operator: true} }

// IsOperator reports whether c is the trusted operator.
func (c *Caller) IsOperator() bool { return c != nil && c.operator }

// RecentAuthChecker enforces the recent-authentication rule: operations that
// could take an account over (or, for admins, any account) need a session that
// signed in or stepped up within a window. auth.Service implements it.
type RecentAuthChecker interface {
	// RequireRecentAuth returns nil when c authenticated recently (or is the
	// operator), else EFORBIDDEN saying how c can step up.
	RequireRecentAuth(ctx context.Context, c *Caller) error
	// ConfirmPassword checks password as c's current password: the one place
	// that does, with one throttle. For an account with MFA a password alone
	// never counts as recent authentication, so it needs c to be recent anyway.
	ConfirmPassword(ctx context.Context, c *Caller, password string) error
}

// ErrNoChecker is a wiring mistake: a sensitive operation on a service without
// its checker fails closed rather than run unguarded.
var ErrNoChecker = errors.New("account: recent-authentication checker not configured")

// RequireRecentAuth applies chk's rule to c, failing closed: no caller or no
// checker is an error, and only Operator() passes without a check.
func RequireRecentAuth(ctx context.Context, chk RecentAuthChecker, c *Caller) error {
	if c == nil {
		return errors.New("account: sensitive operation without a caller")
	}
	if c.operator {
		return nil
	}
	if chk == nil {
		return ErrNoChecker
	}
	return chk.RequireRecentAuth(ctx, c)
}
