package webui_test

import (
	"context"

	"encoding/base32"

	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/mfa"
	"github.com/trailpass/trailpass/internal/testkit"
)

// totp is the code an authenticator app shows for secret at t.
func totp(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(strings.ToUpper(secret), "="))
	if err != nil {
		t.Fatalf("secret %q is not base32: %v", secret, err)
	}
	return mfa.Code(key, at, mfa.SHA1, 6, 30*time.Second)
}

func signInMFA(t *testing.T, ctx context.Context, s *site, username, code string) {
	t.Helper()
	do(t, ctx, "open sign-in", chromedp.Navigate(s.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), username), chromedp.SendKeys(chromedp.CSS("#password"), browserPassword+"\r"))
	waitFor(t, ctx, "the MFA step", `!document.getElementById('mfa-form').hidden`)
	do(t, ctx, "type the code", chromedp.SendKeys(chromedp.CSS("#mfa-code"), code+"\r"))
	waitFor(t, ctx, "the profile page", `location.pathname === '/account'`)
}

func signOut(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, "sign out", chromedp.Click(chromedp.CSS("#signout")))
	waitFor(t, ctx, "the sign-in page", `location.pathname === '/login'`)
}

func TestBrowserMFASetupAndSignIn(t *testing.T) {
	s := newSite(t)
	s.user("dora")
	ctx := newBrowser(t)
	signIn(t, ctx, s, "dora")

	do(t, ctx, "open security", chromedp.Navigate(s.URL+"/account/security"))
	waitFor(t, ctx, "MFA off", `!document.getElementById('mfa-off').hidden`)
	do(t, ctx, "set up", chromedp.Click(chromedp.CSS("#mfa-setup")))
	waitFor(t, ctx, "the QR code", `!document.getElementById('mfa-setup-panel').hidden && document.getElementById('mfa-qr').naturalWidth > 0`)
	shown := text(t, ctx, `document.getElementById('mfa-secret').textContent`)
	for _, g := range strings.Fields(shown) {
		if len(g) > 4 {
			t.Errorf("secret %q is not in groups of four", shown)
		}
	}
	secret := strings.ReplaceAll(shown, " ", "")
	screenshot(t, ctx, "1-setup")

	do(t, ctx, "enable", chromedp.SendKeys(chromedp.CSS("#mfa-enable-code"), totp(t, secret, s.Clock.Now())+"\r"))
	waitFor(t, ctx, "the backup codes", `document.querySelectorAll('#backup-codes li').length === 10`)
	codes := strings.Fields(text(t, ctx, `[...document.querySelectorAll('#backup-codes li')].map((li) => li.textContent).join(' ')`))
	screenshot(t, ctx, "2-backup-codes")
	do(t, ctx, "saved them", chromedp.Click(chromedp.CSS("#backup-done")))
	waitFor(t, ctx, "MFA on", `!document.getElementById('mfa-on').hidden`)

	// A TOTP code signs in (a later step: the enable code cannot be replayed).
	signOut(t, ctx)
	s.Clock.Advance(30 * time.Second)
	signInMFA(t, ctx, s, "dora", totp(t, secret, s.Clock.Now()))
	screenshot(t, ctx, "3-signed-in-totp")

	// So does a backup code.
	signOut(t, ctx)
	signInMFA(t, ctx, s, "dora", codes[0])
	screenshot(t, ctx, "4-signed-in-backup")
}

func TestBrowserChangePassword(t *testing.T) {
	s := newSite(t)
	s.user("erin")
	ctx := newBrowser(t)
	other := otherProfile(t, ctx)
	signIn(t, other, s, "erin")
	signIn(t, ctx, s, "erin")

	const newPassword = "N3w!Passw0rd-long"
	do(t, ctx, "open security", chromedp.Navigate(s.URL+"/account/security"), chromedp.WaitVisible(chromedp.CSS("#pw-current")))
	if checked := text(t, ctx, `String(document.getElementById('pw-signout').checked)`); checked != "true" {
		t.Errorf("sign out other devices is not ticked by default")
	}
	do(t, ctx, "fill in", chromedp.SendKeys(chromedp.CSS("#pw-current"), browserPassword),
		chromedp.SendKeys(chromedp.CSS("#pw-new"), newPassword), chromedp.SendKeys(chromedp.CSS("#pw-confirm"), newPassword+"\r"))
	waitFor(t, ctx, "the confirmation", `document.getElementById('password-ok').textContent.includes('1 other session was signed out')`)
	screenshot(t, ctx, "1-changed")

	do(t, other, "other acts", chromedp.Navigate(s.URL+"/account/security"))
	waitFor(t, other, "other sent to sign-in", `location.pathname === '/login'`)

	signOut(t, ctx)
	do(t, ctx, "sign in with the new password", chromedp.SendKeys(chromedp.CSS("#username"), "erin"),
		chromedp.SendKeys(chromedp.CSS("#password"), newPassword+"\r"))
	waitFor(t, ctx, "the profile page", `location.pathname === '/account'`)
}

func TestBrowserLinkAndUnlinkProvider(t *testing.T) {
	s := newSite(t)
	s.user("gwen")
	op := testkit.StartOIDC(t)
	if _, err := s.IdP.Create(context.Background(), account.Operator(), idp.ProviderInput{Name: "Mock", Slug: "mock", Enabled: true,
		ClientID: op.ClientID(), ClientSecret: op.ClientSecret(), IssuerURL: op.Issuer(), Scopes: "openid profile email"}); err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t)
	signIn(t, ctx, s, "gwen")
	do(t, ctx, "open security", chromedp.Navigate(s.URL+"/account/security"))
	waitFor(t, ctx, "the provider", `!!document.querySelector('#linked a[aria-label="Link Mock"]')`)
	screenshot(t, ctx, "1-not-linked")

	// The link is a full-page navigation through the provider and back.
	op.QueueUser("sub-gwen", "gwen-at-idp", "gwen@idp.example", true)
	do(t, ctx, "link", chromedp.Click(chromedp.CSS(`#linked a[aria-label="Link Mock"]`)))
	waitFor(t, ctx, "linked", `location.pathname === '/account/security' && !document.getElementById('linked-ok').hidden && !!document.querySelector('#linked button[aria-label="Unlink Mock"]')`)
	if got := text(t, ctx, `document.getElementById('linked-ok').textContent`); !strings.Contains(got, "Linked Mock") {
		t.Fatalf("confirmation %q", got)
	}
	screenshot(t, ctx, "2-linked")

	do(t, ctx, "unlink", chromedp.Click(chromedp.CSS(`#linked button[aria-label="Unlink Mock"]`)))
	waitFor(t, ctx, "unlinked", `document.getElementById('linked-ok').textContent.includes('unlinked') && !!document.querySelector('#linked a[aria-label="Link Mock"]')`)
	screenshot(t, ctx, "3-unlinked")

	// Later, linking asks the user to confirm it is them, then carries on. (The
	// session is aged in the database rather than by the clock, which the
	// provider's ID tokens are checked against.)
	stale := s.Clock.Now().Add(-11 * time.Minute).UTC().Format("2006-01-02T15:04:05.000000Z")
	if _, err := s.Store.DB().Exec(`UPDATE sessions SET authenticated_at = $1`, stale); err != nil {
		t.Fatal(err)
	}
	op.QueueUser("sub-gwen", "gwen-at-idp", "gwen@idp.example", true)
	do(t, ctx, "link again", chromedp.Click(chromedp.CSS(`#linked a[aria-label="Link Mock"]`)))
	// The URL it comes back with asks for nothing by itself: the user clicks.
	waitFor(t, ctx, "the offer to confirm", `!document.getElementById('relink').hidden`)
	if got := text(t, ctx, `document.getElementById('relink-text').textContent`); got != "Linking Mock needs you to confirm it is you first." {
		t.Errorf("relink text %q", got)
	}
	if open := text(t, ctx, `String(document.getElementById('stepup').open)`); open != "false" {
		t.Fatal("the step-up prompt opened without a click")
	}
	screenshot(t, ctx, "4-confirm-first")
	do(t, ctx, "click confirm", chromedp.Click(chromedp.CSS("#relink-confirm")))
	waitFor(t, ctx, "the step-up prompt", `document.getElementById('stepup').open`)
	screenshot(t, ctx, "5-step-up")
	do(t, ctx, "confirm", chromedp.SendKeys(chromedp.CSS("#stepup-input"), browserPassword+"\r"))
	waitFor(t, ctx, "linked again", `location.pathname === '/account/security' && !!document.querySelector('#linked button[aria-label="Unlink Mock"]')`)
	screenshot(t, ctx, "6-linked-after-step-up")
}
