package webui_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/testkit"
	"github.com/trailpass/trailpass/internal/webui"
)

// standInIndex and standInApp are a minimal web app that behaves like
// Endurain v0.16.2's LoginView: it offers SSO with a redirect, and on
// /login?sso=success&session_id=... it asks GET /api/v1/profile (with the
// cookies) who is signed in and shows it.
const standInIndex = `<!doctype html>
<html><head><meta charset="utf-8"><title>stand-in app</title>
<script src="/env.js"></script><script src="/app.js" defer></script></head>
<body><main id="app"></main></body></html>
`

const standInApp = `'use strict';
const q = new URLSearchParams(location.search);
const app = document.getElementById('app');
if (location.pathname === '/login' && q.get('sso') === 'success' && q.get('session_id')) {
  fetch(window.env.ENDURAIN_HOST + '/api/v1/profile', { credentials: 'include', headers: { 'X-Client-Type': 'web' } })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error('HTTP ' + r.status))))
    .then((me) => {
      app.dataset.user = me.username;
      app.dataset.redirect = q.get('redirect') || '/';
      app.textContent = 'Signed in as ' + me.username;
    })
    .catch((e) => { app.dataset.failed = String(e); app.textContent = 'Not signed in: ' + e; });
} else if (location.pathname === '/login') {
  const a = document.createElement('a');
  a.id = 'sso';
  a.href = window.env.ENDURAIN_HOST + '/api/v1/public/idp/login/mock?redirect=' + encodeURIComponent('/gears');
  a.textContent = 'Sign in with Mock';
  app.append(a);
}
`

func standInSPA(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"index.html": standInIndex, "app.js": standInApp} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mfaUserLinkedToMock makes an account with a password, MFA and a link to a
// provider "mock" on op; it returns the TOTP secret and the backup codes.
func mfaUserLinkedToMock(t *testing.T, s *site, op *testkit.OIDCProvider, username, subject string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	u := s.CreateUser(username, false)
	p, err := s.IdP.Create(ctx, account.Operator(), idp.ProviderInput{Name: "Mock", Slug: "mock", Enabled: true,
		ClientID: op.ClientID(), ClientSecret: op.ClientSecret(), IssuerURL: op.Issuer(), Scopes: "openid profile email"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store.CreateIdentityLink(ctx, &idp.Link{UserID: u.ID, IdPID: p.ID, IdPSubject: subject, LinkedAt: s.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	c := s.NewClient("web")
	c.MustLogin(username)
	r := c.Do("POST", "/api/v1/profile/mfa/setup", map[string]any{})
	if r.Status != 200 {
		t.Fatalf("MFA setup: %d %s", r.Status, r.Body)
	}
	secret, _ := r.JSON(t)["secret"].(string)
	r = c.Do("POST", "/api/v1/profile/mfa/enable", map[string]string{"mfa_code": totp(t, secret, s.Clock.Now())})
	if r.Status != 200 {
		t.Fatalf("MFA enable: %d %s", r.Status, r.Body)
	}
	var codes []string
	for _, c := range r.JSON(t)["backup_codes"].([]any) {
		codes = append(codes, c.(string))
	}
	return secret, codes
}

// TestBrowserSSOWithMFAInAnotherApp signs in through SSO, for an account with
// MFA, while trailpass serves another web app: the provider sends the browser
// to trailpass's MFA page, which ends on the app's /login?sso=success with the
// redirect kept and the browser signed in.
func TestBrowserSSOWithMFAInAnotherApp(t *testing.T) {
	s := newSiteServing(t, standInSPA(t))
	op := testkit.StartOIDC(t)
	secret, codes := mfaUserLinkedToMock(t, s, op, "hana", "sub-hana")
	ctx := newBrowser(t)

	ssoToMFAPage := func(ctx context.Context) {
		t.Helper()
		op.QueueUser("sub-hana", "hana-at-idp", "hana@idp.example", true)
		do(t, ctx, "open the app", chromedp.Navigate(s.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#sso")),
			chromedp.Click(chromedp.CSS("#sso")))
		waitFor(t, ctx, "the MFA page", `location.pathname === '/trailpass/mfa' && !document.getElementById('mfa-form').hidden`)
		if u := location(t, ctx); u.Query().Get("redirect") != "/gears" || u.Query().Has("sso") {
			t.Errorf("MFA page URL %s", u)
		}
		// Not signed in yet: the provider alone is not enough.
		st, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch('/api/v1/profile', {headers: {'X-Client-Type': 'web'}}).then((r) => String(r.status))`, chromedp.EvalAwaitPromise))
		if err != nil || st != "401" {
			t.Fatalf("profile before the MFA step: %s %v", st, err)
		}
	}
	landed := func(ctx context.Context, what string) {
		t.Helper()
		waitFor(t, ctx, what, `location.pathname === '/login' && document.getElementById('app') && document.getElementById('app').dataset.user === 'hana'`)
		u := location(t, ctx)
		if u.Query().Get("sso") != "success" || u.Query().Get("redirect") != "/gears" || len(u.Query().Get("session_id")) != 36 {
			t.Errorf("landed on %s", u)
		}
		if r := text(t, ctx, `document.getElementById('app').dataset.redirect`); r != "/gears" {
			t.Errorf("app redirect %q", r)
		}
		// Cookies as for any web sign-in: the access token is HttpOnly, the CSRF
		// token readable by the app.
		if !strings.Contains(text(t, ctx, `document.cookie`), "endurain_csrf_token=") || strings.Contains(text(t, ctx, `document.cookie`), "endurain_access_token") {
			t.Errorf("cookies visible to the app: %q", text(t, ctx, `document.cookie`))
		}
	}

	do(t, ctx, "listen for CSP violations", chromedp.Navigate(s.URL+"/"))
	ssoToMFAPage(ctx)
	do(t, ctx, "watch CSP", chromedp.Evaluate[chromedp.Void](`window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective))`))
	if f := text(t, ctx, `document.activeElement.id`); f != "mfa-code" {
		t.Errorf("focus on %q, want the code field", f)
	}
	screenshot(t, ctx, "1-mfa-page")

	// A wrong code says so and keeps the page.
	do(t, ctx, "wrong code", chromedp.SendKeys(chromedp.CSS("#mfa-code"), "000000\r"))
	waitFor(t, ctx, "the error", `!document.getElementById('mfa-error').hidden`)
	if got := text(t, ctx, `document.getElementById('mfa-error').textContent`); got != "Invalid MFA code" {
		t.Errorf("error %q", got)
	}
	if v := text(t, ctx, `JSON.stringify(window.__csp)`); v != "[]" {
		t.Errorf("CSP violations on the MFA page: %s", v)
	}
	screenshot(t, ctx, "2-wrong-code")
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatal(err)
	}
	if bg := text(t, ctx, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(20, 23, 27)" {
		t.Errorf("dark background %q", bg)
	}
	screenshot(t, ctx, "3-dark")

	// The TOTP code (of a later step than the one that turned MFA on), typed
	// and sent with Enter, ends in the app, signed in.
	s.Clock.Advance(30 * time.Second)
	do(t, ctx, "TOTP", clear("mfa-code"), chromedp.SendKeys(chromedp.CSS("#mfa-code"), totp(t, secret, s.Clock.Now())+"\r"))
	landed(ctx, "the app signed in")
	screenshot(t, ctx, "4-app-signed-in")

	// So does a backup code, in another browser profile.
	other := otherProfile(t, ctx)
	ssoToMFAPage(other)
	do(t, other, "backup code", chromedp.SendKeys(chromedp.CSS("#mfa-code"), codes[0]), chromedp.Click(chromedp.CSS("#mfa-submit")))
	landed(other, "the app signed in by backup code")

	// The sign-in waiting on the MFA page is single use: once done, the page
	// cannot be used again and says how to start over.
	do(t, other, "back to the MFA page", chromedp.Navigate(s.URL+webui.MFAPath+"?username=hana"))
	waitFor(t, other, "the form", `!document.getElementById('mfa-form').hidden`)
	s.Clock.Advance(30 * time.Second)
	do(t, other, "code again", chromedp.SendKeys(chromedp.CSS("#mfa-code"), totp(t, secret, s.Clock.Now())+"\r"))
	waitFor(t, other, "start over", `!document.getElementById('mfa-none').hidden && document.getElementById('mfa-form').hidden`)
	screenshot(t, other, "5-nothing-waiting")
}

// TestBrowserSSOWithMFAInConsole runs the same flow with the built-in console,
// through its sign-in page and into the page the redirect names.
func TestBrowserSSOWithMFAInConsole(t *testing.T) {
	s := newSite(t)
	op := testkit.StartOIDC(t)
	secret, _ := mfaUserLinkedToMock(t, s, op, "ines", "sub-ines")
	ctx := newBrowser(t)
	op.QueueUser("sub-ines", "ines-at-idp", "ines@idp.example", true)
	do(t, ctx, "open security", chromedp.Navigate(s.URL+"/account/security"))
	waitFor(t, ctx, "the sign-in page", `location.pathname === '/login' && !document.getElementById('sso').hidden`)
	do(t, ctx, "SSO", chromedp.Click(chromedp.CSS(`#sso-list a`)))
	waitFor(t, ctx, "the MFA page", `location.pathname === '/trailpass/mfa' && !document.getElementById('mfa-form').hidden`)
	s.Clock.Advance(30 * time.Second)
	do(t, ctx, "TOTP", chromedp.SendKeys(chromedp.CSS("#mfa-code"), totp(t, secret, s.Clock.Now())+"\r"))
	// Two sessions: the one that set MFA up, and this one, marked as this device.
	waitFor(t, ctx, "the security page", `location.pathname === '/account/security' && document.querySelectorAll('#sessions li.session').length === 2`)
	if m := text(t, ctx, `document.querySelector('#sessions li.session[data-current="true"]').innerText`); !strings.Contains(m, "sso+totp") {
		t.Errorf("session row %q", m)
	}
	screenshot(t, ctx, "security-after-sso-mfa")
}
