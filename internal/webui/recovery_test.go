package webui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/trailpass/trailpass/internal/account"
)

// A user who forgot their password asks for a link on the sign-in page, opens
// the link from the mail the SMTP server received, sets a new password and
// signs in with it; the link does not work twice.
func TestBrowserResetPasswordFromMail(t *testing.T) {
	s := newSite(t)
	smtp := s.EnableMail()
	if _, err := s.Accounts.CreateUser(context.Background(), account.NewUser{Username: "rosa", Email: "rosa@example.com",
		Password: browserPassword, EmailVerified: true}); err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t)
	do(t, ctx, "open sign-in", chromedp.Navigate(s.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#forgot-link")),
		chromedp.Click(chromedp.CSS("#forgot-link")), chromedp.WaitVisible(chromedp.CSS("#forgot-email")),
		chromedp.SendKeys(chromedp.CSS("#forgot-email"), "rosa@example.com\r"))
	waitFor(t, ctx, "the confirmation", `!document.getElementById('forgot-ok').hidden`)
	if got := text(t, ctx, `document.getElementById('forgot-ok').textContent`); !strings.Contains(got, account.MsgResetRequested) {
		t.Errorf("confirmation = %q", got)
	}
	screenshot(t, ctx, "1-link-requested")

	msgs := s.DeliverMail()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	link := msgs[0].Link("/reset-password?token=")
	if !strings.HasPrefix(link, s.URL+"/reset-password?token=") {
		t.Fatalf("link %q", link)
	}
	_ = smtp
	const newPass = "Fresh!Start-42"
	do(t, ctx, "open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#reset-password")))
	if loc := location(t, ctx); loc.RawQuery != "" {
		t.Errorf("the token stayed in the address bar: %s", loc)
	}
	// Two different passwords are caught on the page.
	do(t, ctx, "mismatch", chromedp.SendKeys(chromedp.CSS("#reset-password"), newPass),
		chromedp.SendKeys(chromedp.CSS("#reset-repeat"), newPass+"x\r"))
	waitFor(t, ctx, "the mismatch", `!document.getElementById('reset-error').hidden`)
	do(t, ctx, "repeat", clear("reset-repeat"), chromedp.SendKeys(chromedp.CSS("#reset-repeat"), newPass+"\r"))
	waitFor(t, ctx, "the sign-in page", `location.pathname === '/login' && !document.getElementById('flash').hidden`)
	if got := text(t, ctx, `document.getElementById('flash').textContent`); !strings.Contains(got, "password was reset") {
		t.Errorf("flash = %q", got)
	}
	screenshot(t, ctx, "2-reset-done")
	do(t, ctx, "sign in with the new password", chromedp.SendKeys(chromedp.CSS("#username"), "rosa"),
		chromedp.SendKeys(chromedp.CSS("#password"), newPass+"\r"))
	waitFor(t, ctx, "the profile page", `location.pathname === '/account' && document.getElementById('whoami').textContent === 'rosa'`)

	// The same link again: refused with the API's detail.
	other := otherProfile(t, ctx)
	do(t, other, "open the link again", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#reset-password")),
		chromedp.SendKeys(chromedp.CSS("#reset-password"), newPass+"2"), chromedp.SendKeys(chromedp.CSS("#reset-repeat"), newPass+"2\r"))
	waitFor(t, other, "the refusal", `!document.getElementById('reset-error').hidden`)
	if got := text(t, other, `document.getElementById('reset-error').textContent`); got != account.MsgResetBadToken {
		t.Errorf("second use = %q", got)
	}
	screenshot(t, other, "3-link-spent")
}

// Sign-up with verification through the console: the form, the mail's link,
// the verification page and its pending-approval message.
func TestBrowserSignUpAndVerify(t *testing.T) {
	s := newSite(t)
	s.EnableMail()
	s.CreateUser("root", true)
	admin := s.NewClient("web")
	admin.MustLogin("root")
	if r := admin.Do("PUT", "/api/v1/server_settings", map[string]any{"signup_enabled": true,
		"signup_require_email_verification": true, "signup_require_admin_approval": true}); r.Status != 200 {
		t.Fatalf("settings: %d %s", r.Status, r.Body)
	}
	ctx := newBrowser(t)
	do(t, ctx, "open sign-in", chromedp.Navigate(s.URL+"/login"))
	waitFor(t, ctx, "the sign-up link", `!document.getElementById('signup-link').hidden`)
	do(t, ctx, "open sign-up", chromedp.Click(chromedp.CSS("#signup-link")), chromedp.WaitVisible(chromedp.CSS("#signup-name")),
		chromedp.SendKeys(chromedp.CSS("#signup-name"), "Tao Lin"), chromedp.SendKeys(chromedp.CSS("#signup-username"), "tao"),
		chromedp.SendKeys(chromedp.CSS("#signup-email"), "tao@example.org"), chromedp.SendKeys(chromedp.CSS("#signup-password"), "Tao!Passw0rd\r"))
	waitFor(t, ctx, "the answer", `!document.getElementById('signup-ok').hidden`)
	if got := text(t, ctx, `document.getElementById('signup-ok').textContent`); !strings.Contains(got, "verification instructions") || !strings.Contains(got, "pending admin approval") {
		t.Errorf("answer = %q", got)
	}
	var link string
	for _, m := range s.DeliverMail() {
		if m.To[0] == "tao@example.org" {
			link = m.Link("/verify-email?token=")
		}
	}
	if link == "" {
		t.Fatal("no verification mail")
	}
	do(t, ctx, "open the link", chromedp.Navigate(link))
	waitFor(t, ctx, "the verification", `!document.getElementById('verify-ok').hidden && !document.getElementById('verify-pending').hidden`)
	screenshot(t, ctx, "verified-pending-approval")
}
