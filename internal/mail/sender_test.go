package mail_test

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/mail"
	"github.com/trailpass/trailpass/internal/metrics"
	"github.com/trailpass/trailpass/internal/secret"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

type rig struct {
	st     *store.Store
	smtp   *testkit.SMTPServer
	mailer *mail.Mailer
	clock  *testkit.Clock
	logs   *testkit.LogBuffer
	met    *metrics.Metrics
	user   *account.User
}

func newRig(t *testing.T, b testkit.Backend) *rig {
	t.Helper()
	st := testkit.OpenStore(t, b)
	kr, _ := secret.NewKeyring(make([]byte, 32))
	srv := testkit.StartSMTP(t)
	pub, _ := url.Parse("https://fit.example.org")
	r := &rig{st: st, smtp: srv, clock: testkit.NewClock(time.Now().UTC().Truncate(time.Second)), logs: &testkit.LogBuffer{}, met: metrics.New()}
	r.mailer = &mail.Mailer{SMTP: &mail.SMTP{Host: srv.Host, Port: srv.Port, Security: mail.SecurityNone, From: "noreply@fit.example.org", Timeout: 3 * time.Second},
		Users: st, Keyring: kr, Renderer: mail.NewRenderer(), PublicURL: pub, Now: r.clock.Now}
	accounts := &account.Service{Store: st, Hasher: secret.NewHasher(secret.Argon2Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 2), Now: r.clock.Now}
	u, err := accounts.CreateUser(context.Background(), account.NewUser{Username: "ola", Email: "ola@example.com", Password: "Test!Passw0rd", EmailVerified: true})
	if err != nil {
		t.Fatal(err)
	}
	r.user = u
	return r
}

func (r *rig) sender() *mail.Sender {
	return &mail.Sender{SMTP: r.mailer.SMTP, Outbox: r.st, Keyring: r.mailer.Keyring, Metrics: r.met,
		Logger: slog.New(slog.NewJSONHandler(r.logs, nil)), Now: r.clock.Now}
}

// queue writes one reset message to the outbox the way a request does.
func (r *rig) queue(t *testing.T) {
	t.Helper()
	m, err := r.mailer.Message(account.MailRequest{Kind: account.MailPasswordReset, User: r.user, Token: secret.NewToken(), TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.st.QueueMail(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func rounds(t *testing.T, s *mail.Sender) {
	t.Helper()
	for {
		n, err := s.Round(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func TestRender_LanguagesAndParts(t *testing.T) {
	r := mail.NewRenderer()
	d := mail.Data{Product: "trailpass", PublicURL: "https://x", Name: "Ö <b>", Username: "o", Link: "https://x/reset-password?token=abc", Expiry: "1 hour"}
	de, err := r.Render(account.MailPasswordReset, "de", d)
	if err != nil || !strings.Contains(de.Subject, "zurücksetzen") {
		t.Fatalf("German: %v %+v", err, de)
	}
	fr, err := r.Render(account.MailPasswordReset, "fr", d)
	if err != nil || !strings.HasPrefix(fr.Subject, "Reset your") {
		t.Fatalf("fallback to English: %v %+v", err, fr)
	}
	if !strings.Contains(fr.HTML, "Ö &lt;b&gt;") || !strings.Contains(fr.Text, "Ö <b>") || !strings.Contains(fr.Text, d.Link) {
		t.Fatalf("escaping: html %q text %q", fr.HTML, fr.Text)
	}
	for _, kind := range []string{account.MailPasswordReset, account.MailVerifyEmail, account.MailApprovalRequest, account.MailWelcome,
		account.NoticePasswordChanged, account.NoticePasswordReset, account.NoticeEmailChanged, account.NoticeMFAEnabled, account.NoticeMFADisabled,
		account.NoticeBackupCodesNew, account.NoticeBackupCodesLow, account.NoticeIdPLinked, account.NoticeIdPUnlinked, account.NoticeNewSignIn, account.NoticePasskeyAdded} {
		m, err := r.Render(kind, "us", d)
		if err != nil || m.Subject == "" || m.Text == "" || !strings.Contains(m.HTML, "<html>") || strings.Contains(m.Text+m.HTML, "<no value>") {
			t.Fatalf("%s: %v %+v", kind, err, m)
		}
	}
}

func TestSender_QueuesWhileDownAndDeliversOnce(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		r := newRig(t, b)
		s := r.sender()
		r.smtp.Stop()
		r.queue(t)
		rounds(t, s)
		if p, sent, _, _ := r.st.MailCounts(context.Background()); p != 1 || sent != 0 {
			t.Fatalf("while down: pending %d sent %d", p, sent)
		}
		if testutil.ToFloat64(r.met.Mail.WithLabelValues("retry")) != 1 {
			t.Fatalf("retry metric: %v", testutil.ToFloat64(r.met.Mail.WithLabelValues("retry")))
		}
		// Not due again before the backoff.
		r.smtp.Start()
		rounds(t, s)
		if n := len(r.smtp.Messages()); n != 0 {
			t.Fatalf("sent before the backoff ran out: %d", n)
		}
		// A refusing server counts as down too, and the wait doubles.
		r.smtp.Refuse(true)
		r.clock.Advance(mail.RetryBase)
		rounds(t, s)
		r.smtp.Refuse(false)
		r.clock.Advance(mail.RetryBase)
		rounds(t, s)
		if n := len(r.smtp.Messages()); n != 0 {
			t.Fatalf("sent before the doubled backoff: %d", n)
		}
		r.clock.Advance(mail.RetryBase)
		rounds(t, s)
		msgs := r.smtp.Messages()
		if len(msgs) != 1 || msgs[0].To[0] != "ola@example.com" || !strings.Contains(msgs[0].Link("reset-password"), "https://fit.example.org/reset-password?token=") {
			t.Fatalf("after recovery: %+v", msgs)
		}
		// Delivered rows are pruned after MailKeepSent.
		r.clock.Advance(time.Hour)
		rounds(t, s)
		if len(r.smtp.Messages()) != 1 {
			t.Fatal("sent twice")
		}
		r.st.DeleteExpired(context.Background(), r.clock.Now().Add(store.MailKeepSent))
		if p, sent, f, _ := r.st.MailCounts(context.Background()); p+sent+f != 0 {
			t.Fatalf("not pruned: %d %d %d", p, sent, f)
		}
	})
}

func TestSender_GivesUp(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		r := newRig(t, b)
		s := r.sender()
		r.smtp.Stop()
		r.queue(t)
		for i := 0; i < 200 && testutil.ToFloat64(r.met.Mail.WithLabelValues("failed")) == 0; i++ {
			rounds(t, s)
			r.clock.Advance(mail.RetryMax)
		}
		if testutil.ToFloat64(r.met.Mail.WithLabelValues("failed")) != 1 {
			t.Fatalf("never gave up")
		}
		if _, _, f, _ := r.st.MailCounts(context.Background()); f != 1 {
			t.Fatalf("failed rows: %d", f)
		}
		if !strings.Contains(r.logs.String(), `"msg":"mail given up"`) || !strings.Contains(r.logs.String(), `"level":"ERROR"`) {
			t.Fatalf("no error logged: %s", r.logs.String())
		}
		// Nothing further is tried.
		r.smtp.Start()
		r.clock.Advance(time.Hour)
		rounds(t, s)
		if len(r.smtp.Messages()) != 0 {
			t.Fatal("sent after giving up")
		}
	})
}

// Two senders on one database, racing: each message arrives exactly once, and
// a sender that died holding a claim is taken over after the lease.
func TestSender_ConcurrentClaimsAndLease(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		r := newRig(t, b)
		other := testkit.OpenStore(t, b) // a second pool, as a second process has
		for i := 0; i < 30; i++ {
			r.queue(t)
		}
		a, c := r.sender(), r.sender()
		c.Outbox = other
		var wg sync.WaitGroup
		for _, s := range []*mail.Sender{a, c} {
			wg.Add(1)
			go func(s *mail.Sender) {
				defer wg.Done()
				for {
					n, err := s.Round(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
				}
			}(s)
		}
		wg.Wait()
		if n := len(r.smtp.Messages()); n != 30 {
			t.Fatalf("delivered %d, want 30", n)
		}
		seen := map[string]bool{}
		for _, m := range r.smtp.Messages() {
			if seen[m.Text] {
				t.Fatal("a message arrived twice")
			}
			seen[m.Text] = true
		}
		// A claim whose sender died: held until the lease runs out.
		r.queue(t)
		rows, err := r.st.ClaimMail(context.Background(), "dead-sender", r.clock.Now(), r.clock.Now().Add(mail.ClaimLease), 10)
		if err != nil || len(rows) != 1 {
			t.Fatalf("claim: %v %d", err, len(rows))
		}
		rounds(t, a)
		if len(r.smtp.Messages()) != 30 {
			t.Fatal("took a leased row")
		}
		r.clock.Advance(mail.ClaimLease)
		rounds(t, a)
		if len(r.smtp.Messages()) != 31 {
			t.Fatal("lease never ran out")
		}
	})
}
