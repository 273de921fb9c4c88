package webui_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/testkit"
	"github.com/trailpass/trailpass/internal/webui"
)

// The browser tests run on SQLite only: they test the pages, and the API's
// behaviour on both databases is tested in httpapi.

const browserPassword = httpapitest.Password

// site is a real trailpass (every service, the JSON API and the console, mounted
// as serve mounts them) over a real SQLite database.
type site struct {
	*httpapitest.Env
}

func newSite(t *testing.T) *site { return newSiteServing(t, "") }

// newSiteServing is newSite with webDir as TRAILPASS_WEB_DIR ("" for the console).
func newSiteServing(t *testing.T, webDir string) *site {
	t.Helper()
	dir := t.TempDir()
	b := testkit.Backend{Name: "sqlite", URL: "sqlite:" + filepath.Join(dir, "trailpass.db"), DataDir: dir}
	env := httpapitest.New(t, b, func(e *httpapitest.Env) {
		e.Server.Fallback = webui.New(webui.Config{PublicURL: e.Server.Config.PublicURL, WebDir: webDir,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	})
	return &site{env}
}

func (s *site) user(name string) { s.CreateUser(name, false) }

// chromium finds Debian's Chromium (or another Chrome) on this machine.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts a headless Chromium with its own profile and returns a tab.
// It skips the test only when no Chromium is installed; CI fails on that skip.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromium()
	if path == "" {
		t.Skip("no Chromium found: install Debian's chromium package to run the browser tests")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	ctx, cancelTime := context.WithTimeout(ctx, 45*time.Second)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// otherProfile opens a tab in a fresh browser context of the same browser: its
// own cookies, as a second device.
func otherProfile(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	return ctx
}

// do runs browser steps and fails the test, with a screenshot, if one fails.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		screenshot(t, ctx, "failed-"+what)
		t.Fatalf("%s: %v", what, err)
	}
}

// waitFor waits until a JavaScript expression is true in the page. It polls
// from Go rather than in the page, so a navigation in between does not end it.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	// Generous: CI runs these beside every other package under -race on two
	// cores, and a page that never gets there still fails.
	deadline := time.Now().Add(30 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("Boolean("+expr+")"))
		if err == nil && ok {
			return
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	screenshot(t, ctx, "failed-"+what)
	t.Fatalf("waiting for %s (%s) at %s: %v\npage text:\n%s", what, expr, loc, lastErr, body)
}

// clear empties an input, as select-all and delete would.
func clear(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%q).value = ''`, id))
}

func text(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func location(t *testing.T, ctx context.Context) *url.URL {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// screenshot saves the page under the test's artifact directory (kept under
// -outputdir when go test runs with -artifacts).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(t.ArtifactDir(), strings.NewReplacer("/", "_", "\\", "_", ":", "_").Replace(name)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s", path)
}

// signIn fills in the sign-in form by keyboard and waits for the profile page.
func signIn(t *testing.T, ctx context.Context, s *site, username string) {
	t.Helper()
	do(t, ctx, "open sign-in", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), username), chromedp.SendKeys(chromedp.CSS("#password"), browserPassword+"\r"))
	waitFor(t, ctx, "the profile page", fmt.Sprintf(`location.pathname === '/account' && document.getElementById('whoami').textContent === %q`, username))
}

func TestBrowserSignInShowsErrorsAndSignsOut(t *testing.T) {
	s := newSite(t)
	s.user("alice")
	ctx := newBrowser(t)

	// A wrong password shows the API's own detail.
	do(t, ctx, "open sign-in", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "alice"), chromedp.SendKeys(chromedp.CSS("#password"), "wrong-password"),
		chromedp.Click(chromedp.CSS("#login-submit")))
	waitFor(t, ctx, "the error", `!document.getElementById('login-error').hidden`)
	if got := text(t, ctx, `document.getElementById('login-error').textContent`); got != "Invalid username or password" {
		t.Errorf("error shown = %q", got)
	}
	if p := location(t, ctx).Path; p != "/login" {
		t.Errorf("after a failed sign-in the page is %s", p)
	}
	screenshot(t, ctx, "1-wrong-password")

	// Enter in the password field signs in; the profile page names the user.
	do(t, ctx, "clear password", clear("password"))
	do(t, ctx, "type password", chromedp.SendKeys(chromedp.CSS("#password"), browserPassword+"\r"))
	waitFor(t, ctx, "the profile page", `location.pathname === '/account' && document.getElementById('whoami').textContent === 'alice'`)
	screenshot(t, ctx, "2-signed-in")

	// On a phone-sized screen the navigation still fits.
	do(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844))
	if w := text(t, ctx, `String(document.documentElement.scrollWidth)`); w != "390" {
		t.Errorf("page is %s px wide on a 390 px screen", w)
	}
	screenshot(t, ctx, "3-phone")
	do(t, ctx, "desktop viewport", chromedp.EmulateViewport(1280, 900))

	// Signing out lands on the sign-in page, and the session is gone: the
	// security page sends the browser back to sign in.
	do(t, ctx, "sign out", chromedp.Click(chromedp.CSS("#signout")))
	waitFor(t, ctx, "the sign-in page", `location.pathname === '/login' && document.getElementById('flash').textContent.includes('signed out')`)
	screenshot(t, ctx, "4-signed-out")
	do(t, ctx, "open security", chromedp.Navigate(s.URL+"/account/security"))
	waitFor(t, ctx, "the sign-in page again", `location.pathname === '/login' && location.search.includes('sessionExpired')`)
	if q := location(t, ctx).Query().Get("redirect"); q != "/account/security" {
		t.Errorf("redirect after sign-in = %q", q)
	}
}

func TestBrowserRevokeSessions(t *testing.T) {
	s := newSite(t)
	s.user("bob")
	first := newBrowser(t)
	second := otherProfile(t, first)

	signIn(t, first, s, "bob")
	signIn(t, second, s, "bob")
	do(t, second, "second opens security", chromedp.Navigate(s.URL+"/account/security"))
	waitFor(t, second, "the second's list", `document.querySelectorAll('#sessions li.session').length === 2`)

	do(t, first, "open security", chromedp.Navigate(s.URL+"/account/security"))
	waitFor(t, first, "two sessions", `document.querySelectorAll('#sessions li.session').length === 2`)
	if n := text(t, first, `String(document.querySelectorAll('#sessions li[data-current="true"]').length)`); n != "1" {
		t.Errorf("%s sessions marked current, want 1", n)
	}
	row := text(t, first, `document.querySelector('#sessions li[data-current="false"]').innerText`)
	for _, want := range []string{"Chrome", "Linux", "IP 127.0.0.1", "signed in", "last active"} {
		if !strings.Contains(row, want) {
			t.Errorf("session row %q lacks %q", row, want)
		}
	}
	screenshot(t, first, "1-two-sessions")

	do(t, first, "revoke the other", chromedp.Click(chromedp.CSS(`#sessions li[data-current="false"] button`)))
	waitFor(t, first, "one session", `document.querySelectorAll('#sessions li.session').length === 1 && !document.getElementById('sessions-ok').hidden`)
	screenshot(t, first, "2-revoked")

	// The revoked device's next action sends it to sign in.
	do(t, second, "second acts", chromedp.Click(chromedp.CSS("#sessions-refresh")))
	waitFor(t, second, "the second sent to sign-in", `location.pathname === '/login' && location.search.includes('sessionExpired')`)
	screenshot(t, second, "3-second-signed-out")

	// Signing out every other session asks for the password once the sign-in is
	// older than ten minutes, then works.
	third := otherProfile(t, first)
	signIn(t, third, s, "bob")
	s.Clock.Advance(11 * time.Minute)
	do(t, first, "refresh list", chromedp.Click(chromedp.CSS("#sessions-refresh")))
	waitFor(t, first, "two sessions again", `document.querySelectorAll('#sessions li.session').length === 2`)
	do(t, first, "revoke others", chromedp.Click(chromedp.CSS("#sessions-revoke-others")))
	waitFor(t, first, "the step-up prompt", `document.getElementById('stepup').open`)
	do(t, first, "wrong password", chromedp.SendKeys(chromedp.CSS("#stepup-input"), "nope\r"))
	waitFor(t, first, "the step-up error", `!document.getElementById('stepup-error').hidden`)
	if got := text(t, first, `document.getElementById('stepup-error').textContent`); got != "Invalid password" {
		t.Errorf("step-up error = %q", got)
	}
	if v := text(t, first, `String(document.getElementById('stepup-confirm').checkVisibility())`); v != "true" {
		t.Errorf("the confirm button is hidden after an error")
	}
	screenshot(t, first, "4-step-up")
	do(t, first, "password", clear("stepup-input"), chromedp.SendKeys(chromedp.CSS("#stepup-input"), browserPassword),
		chromedp.Click(chromedp.CSS("#stepup-confirm")))
	waitFor(t, first, "others revoked", `!document.getElementById('stepup').open && document.getElementById('sessions-ok').textContent === '1 other session was signed out.'`)
	waitFor(t, first, "only this session", `document.querySelectorAll('#sessions li.session').length === 1`)
	do(t, third, "third acts", chromedp.Navigate(s.URL+"/account/security"))
	waitFor(t, third, "the third sent to sign-in", `location.pathname === '/login'`)
}

// TestBrowserPagesRunUnderCSP loads every page in a signed-in browser and checks
// that the page's script ran under the CSP (it fills the page) and that the
// browser reported no CSP violation.
func TestBrowserPagesRunUnderCSP(t *testing.T) {
	s := newSite(t)
	s.user("carol")
	ctx := newBrowser(t)
	do(t, ctx, "listen for violations", chromedp.Navigate(s.URL+"/login"))
	signIn(t, ctx, s, "carol")
	for _, p := range []struct{ path, ready string }{
		{"/account/security", `document.querySelectorAll('#sessions li.session').length === 1`},
		{"/account/data", `document.getElementById('export') !== null`},
		{"/account", `document.getElementById('privacy-checks').children.length === 12`},
		{"/login", `document.getElementById('login-form') !== null`},
	} {
		do(t, ctx, "open "+p.path, chromedp.Navigate(s.URL+p.path),
			chromedp.Evaluate[chromedp.Void](`window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective))`))
		waitFor(t, ctx, p.path+" ready", p.ready)
		if v := text(t, ctx, `JSON.stringify(window.__csp || [])`); v != "[]" {
			t.Errorf("%s: CSP violations %s", p.path, v)
		}
		if n := text(t, ctx, `String(document.querySelectorAll('script:not([src]), [style], style').length)`); n != "0" {
			t.Errorf("%s: %s inline scripts or styles", p.path, n)
		}
	}
	if title := text(t, ctx, `document.title`); !strings.Contains(title, "Sign in") {
		t.Errorf("title %q", title)
	}
	light := text(t, ctx, `getComputedStyle(document.body).backgroundColor`)
	screenshot(t, ctx, "login-light")

	// The same page follows a dark system theme.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatal(err)
	}
	dark := text(t, ctx, `getComputedStyle(document.body).backgroundColor`)
	if dark == light || dark != "rgb(20, 23, 27)" {
		t.Errorf("dark background %q (light %q)", dark, light)
	}
	screenshot(t, ctx, "login-dark")
	screenshots(t, ctx, "login")
}

// Turning the new-device notice off on a sign-in older than the window asks
// for a step-up first, then stores it; the box is back on if the step-up is
// cancelled.
// openSecurity opens the security page and waits until each of its sections
// has loaded: until then the notice box and the buttons below the lists move
// down as the lists arrive, and a click aimed at them can land elsewhere.
func openSecurity(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	do(t, ctx, "open security", chromedp.Navigate(base+"/account/security"))
	waitFor(t, ctx, "every section", `document.getElementById('mfa-state').textContent !== '…' &&
		['passkeys', 'linked', 'sessions', 'history'].every(id => document.querySelectorAll('#' + id + ' li').length > 0)`)
}

func TestBrowserNoticeOffNeedsStepUp(t *testing.T) {
	s := newSite(t)
	nina := s.CreateUser("nina", false)
	ctx := newBrowser(t)
	signIn(t, ctx, s, "nina")
	openSecurity(t, ctx, s.URL)
	waitFor(t, ctx, "the notice box", `document.getElementById('notice-new-sign-in').checked`)
	s.Clock.Advance(11 * time.Minute)

	do(t, ctx, "turn it off", chromedp.Click(chromedp.CSS("#notice-new-sign-in")))
	waitFor(t, ctx, "the step-up", `document.getElementById('stepup').open`)
	do(t, ctx, "cancel", chromedp.Click(chromedp.CSS("#stepup-cancel")))
	waitFor(t, ctx, "the box back on", `!document.getElementById('stepup').open && document.getElementById('notice-new-sign-in').checked`)

	do(t, ctx, "turn it off again", chromedp.Click(chromedp.CSS("#notice-new-sign-in")))
	waitFor(t, ctx, "the step-up again", `document.getElementById('stepup').open`)
	screenshot(t, ctx, "1-notice-step-up")
	do(t, ctx, "password", chromedp.SendKeys(chromedp.CSS("#stepup-input"), browserPassword+"\r"))
	waitFor(t, ctx, "stored", `!document.getElementById('stepup').open && document.getElementById('notices-ok').textContent === 'New sign-in notices are off.'`)
	screenshot(t, ctx, "2-notice-off")
	if on, err := s.Store.NewSignInNotices(context.Background(), nina.ID); err != nil || on {
		t.Errorf("stored setting = %v, %v; want off", on, err)
	}
}
