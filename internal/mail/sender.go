package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/metrics"
	"github.com/trailpass/trailpass/internal/secret"
)

// Delivery timings. They are documented in the README.
const (
	// ClaimLease is how long a claimed row is reserved for its sender; a sender
	// that dies holding it lets another take it over after this.
	ClaimLease = 5 * time.Minute
	// RetryBase is the wait after the first failed attempt; it doubles per
	// attempt up to RetryMax.
	RetryBase = 30 * time.Second
	RetryMax  = 30 * time.Minute
	// GiveUpAfter is how long after it was queued a message stops being retried.
	GiveUpAfter = 24 * time.Hour
)

// Outbox is what the sender needs from storage.
type Outbox interface {
	ClaimMail(ctx context.Context, claim string, now, leaseUntil time.Time, limit int) ([]*account.OutboxRow, error)
	MarkMailSent(ctx context.Context, id int64, claim string, at time.Time) error
	RetryMail(ctx context.Context, id int64, claim string, next time.Time, reason string) error
	FailMail(ctx context.Context, id int64, claim string, at time.Time, reason string) error
}

// Sender delivers the outbox. Every instance runs one.
type Sender struct {
	SMTP    *SMTP
	Outbox  Outbox
	Keyring *secret.Keyring
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	Now     func() time.Time
	// Poll is the pause between rounds when nothing was due (2 s by default).
	Poll time.Duration
	// Wake, when not nil, starts a round at once (a request just queued mail).
	Wake chan struct{}
}

// Run delivers due mail until ctx ends.
func (s *Sender) Run(ctx context.Context) {
	poll := s.Poll
	if poll == 0 {
		poll = 2 * time.Second
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.Wake:
		}
		n, err := s.Round(ctx)
		if err != nil && ctx.Err() == nil {
			s.Logger.Warn("mail outbox round failed", "err", err)
		}
		next := poll
		if n > 0 {
			next = 0 // more may be due
		}
		t.Reset(next)
	}
}

// Round claims up to 10 due messages, delivers them and records the outcome.
// It returns how many it claimed.
func (s *Sender) Round(ctx context.Context) (int, error) {
	claim := newClaim()
	now := s.Now()
	rows, err := s.Outbox.ClaimMail(ctx, claim, now, now.Add(ClaimLease), 10)
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		s.deliver(ctx, r)
	}
	return len(rows), nil
}

func (s *Sender) deliver(ctx context.Context, r *account.OutboxRow) {
	plain, err := s.Keyring.Open(r.Body, Binding)
	var msg *Message
	if err == nil {
		msg, err = decodeMessage(plain)
	}
	if err != nil {
		// A body no key opens will never be sent: give up at once.
		s.fail(ctx, r, "cannot open the message: "+err.Error())
		return
	}
	sendCtx, cancel := context.WithTimeout(ctx, ClaimLease/2)
	err = s.SMTP.send(sendCtx, r.Recipient, msg)
	cancel()
	now := s.Now()
	if err == nil {
		// The at-least-once window: the server has the message, and this write
		// records it. If the process dies in between, the lease runs out and the
		// message is sent again.
		if err := s.Outbox.MarkMailSent(context.WithoutCancel(ctx), r.ID, r.Claim, now); err != nil {
			s.Logger.Error("mail sent but not marked; it may be sent again", "id", r.ID, "kind", r.Kind, "err", err)
		}
		s.count("sent")
		s.Logger.Info("mail sent", "id", r.ID, "kind", r.Kind, "attempts", r.Attempts)
		return
	}
	if now.Sub(r.CreatedAt) >= GiveUpAfter {
		s.fail(ctx, r, err.Error())
		return
	}
	wait := Backoff(r.Attempts)
	if e := s.Outbox.RetryMail(context.WithoutCancel(ctx), r.ID, r.Claim, now.Add(wait), err.Error()); e != nil && !errors.Is(e, account.ErrLeaseLost) {
		s.Logger.Warn("mail retry not recorded", "id", r.ID, "err", e)
	}
	s.count("retry")
	s.Logger.Warn("mail not delivered; will retry", "id", r.ID, "kind", r.Kind, "attempts", r.Attempts, "retry_in", wait.String(), "err", err)
}

func (s *Sender) fail(ctx context.Context, r *account.OutboxRow, reason string) {
	if err := s.Outbox.FailMail(context.WithoutCancel(ctx), r.ID, r.Claim, s.Now(), reason); err != nil {
		s.Logger.Warn("mail failure not recorded", "id", r.ID, "err", err)
	}
	s.count("failed")
	s.Logger.Error("mail given up", "id", r.ID, "kind", r.Kind, "attempts", r.Attempts, "queued_at", r.CreatedAt, "err", reason)
}

func (s *Sender) count(result string) {
	if s.Metrics != nil {
		s.Metrics.MailResult(result)
	}
}

// Backoff is the wait after the given number of failed attempts.
func Backoff(attempts int) time.Duration {
	d := RetryBase
	for i := 1; i < attempts && d < RetryMax; i++ {
		d *= 2
	}
	return min(d, RetryMax)
}

func newClaim() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
