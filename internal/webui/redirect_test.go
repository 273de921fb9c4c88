package webui_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/testkit"
	"github.com/trailpass/trailpass/internal/webui"
)

// TestBrowserSafeRedirectAgreesWithServer runs the server's redirect cases
// (internal/idp/testdata) through the console's tp.safeRedirect in Chromium.
func TestBrowserSafeRedirectAgreesWithServer(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "idp", "testdata", "safe_redirect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		In string `json:"in"`
		OK bool   `json:"ok"`
	}
	if err := json.Unmarshal(b, &cases); err != nil || len(cases) < 40 {
		t.Fatalf("cases: %d, %v", len(cases), err)
	}
	s := newSite(t)
	ctx := newBrowser(t)
	do(t, ctx, "open sign-in", chromedp.Navigate(s.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#username")))
	for _, c := range cases {
		q, _ := json.Marshal(c.In)
		got := text(t, ctx, `window.tp.safeRedirect(`+string(q)+`)`)
		want := ""
		if c.OK {
			want = c.In
		}
		if got != want {
			t.Errorf("tp.safeRedirect(%q) = %q, want %q", c.In, got, want)
		}
		if server := idp.SafeRedirect(c.In); server != want {
			t.Errorf("idp.SafeRedirect(%q) = %q, want %q", c.In, server, want)
		}
	}
}

// TestBrowserSignInRedirectStaysOnOrigin opens, signed in, links that would
// send the browser elsewhere after an SSO success: every one ends on the
// console's own page.
func TestBrowserSignInRedirectStaysOnOrigin(t *testing.T) {
	s := newSite(t)
	s.user("jade")
	ctx := newBrowser(t)
	signIn(t, ctx, s, "jade")
	origin := location(t, ctx).Host
	for _, raw := range []string{
		"/%09/evil.example/", "/%0A/evil.example/", "/%0D/evil.example/", "/%09%09evil.example/", "%09//evil.example/",
		"/%5Cevil.example/", "%5C%5Cevil.example/", "/%5C/evil.example/", "//evil.example/", "///evil.example/",
		"https://evil.example/", "https:evil.example", "javascript:alert(1)", "/%2e%2e/api/v1/profile/idp/1/link",
		"/api/v1/profile/idp/1/link", "/login", "%20//evil.example/",
	} {
		do(t, ctx, "open "+raw, chromedp.Navigate(s.URL+"/login?sso=success&redirect="+raw))
		waitFor(t, ctx, "the profile page after "+raw, `location.pathname === '/account' && document.getElementById('whoami').textContent === 'jade'`)
		if u := location(t, ctx); u.Host != origin {
			t.Fatalf("redirect=%s left for %s", raw, u)
		}
	}
	// A path of the console is where it goes.
	do(t, ctx, "a good redirect", chromedp.Navigate(s.URL+"/login?sso=success&redirect="+url.QueryEscape("/account/data?x=1")))
	waitFor(t, ctx, "the data page", `location.pathname === '/account/data' && location.search === '?x=1'`)
}

// TestBrowserSSOSuccessNeedsASession: ?sso=success in a browser without a
// session does nothing; the sign-in page stays.
func TestBrowserSSOSuccessNeedsASession(t *testing.T) {
	s := newSite(t)
	ctx := newBrowser(t)
	do(t, ctx, "open", chromedp.Navigate(s.URL+"/login?sso=success&session_id=00000000-0000-0000-0000-000000000000&redirect=/account/data"),
		chromedp.WaitVisible(chromedp.CSS("#username")))
	// The page asked whether there is a session, and got its answer...
	waitFor(t, ctx, "the session probe", `performance.getEntriesByType('resource').some((e) => e.name.endsWith('/api/v1/profile') && e.responseEnd > 0)`)
	time.Sleep(300 * time.Millisecond)
	// ...and stayed: no navigation, no refresh or sign-out, nothing remembered.
	u := location(t, ctx)
	if u.Path != "/login" || u.Query().Get("sso") != "success" {
		t.Fatalf("moved to %s", u)
	}
	if got := text(t, ctx, `performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname).filter((p) => p.startsWith('/api/')).sort().join(' ')`); got != "/api/v1/profile /api/v1/public/idp /api/v1/public/server_settings" {
		t.Errorf("API calls %q", got)
	}
	if got := text(t, ctx, `String(sessionStorage.getItem('tp.session_id'))`); got != "null" {
		t.Errorf("session id remembered: %q", got)
	}
	if text(t, ctx, `String(document.getElementById('login-form').hidden)`) != "false" {
		t.Error("the sign-in form is hidden")
	}
	screenshot(t, ctx, "sso-success-without-session")
}

// TestBrowserQueryTextNotShown: text in the query string (which anyone can
// write into a link) never appears on a page.
func TestBrowserQueryTextNotShown(t *testing.T) {
	s := newSite(t)
	s.user("kira")
	op := testkit.StartOIDC(t)
	p, err := s.IdP.Create(t.Context(), account.Operator(), idp.ProviderInput{Name: "Mock", Slug: "mock", Enabled: true,
		ClientID: op.ClientID(), ClientSecret: op.ClientSecret(), IssuerURL: op.Issuer(), Scopes: "openid profile email"})
	if err != nil {
		t.Fatal(err)
	}
	const evil = "Call 555-EVIL to restore your account"
	e := url.QueryEscape(evil)
	ctx := newBrowser(t)
	for _, c := range []struct{ path, ready string }{
		{"/login?error=sso_" + e + "&detail=" + e + "&redirect=" + e, `document.getElementById('flash').textContent.includes('Single sign-on did not complete')`},
		{webui.MFAPath + "?username=" + e + "&redirect=" + e, `!document.getElementById('mfa-form').hidden`},
	} {
		do(t, ctx, "open "+c.path, chromedp.Navigate(s.URL+c.path))
		waitFor(t, ctx, c.path+" ready", c.ready)
		if body := text(t, ctx, `document.body.innerText`); strings.Contains(body, "EVIL") {
			t.Errorf("%s shows the query text:\n%s", c.path, body)
		}
	}
	signIn(t, ctx, s, "kira")
	id := p.ID
	for _, c := range []struct{ query, ready string }{
		// A success for a provider the account is not linked to says nothing.
		{"idp_link=success&idp_name=" + e + "&idp_id=" + strconv.FormatInt(id, 10), `!!document.querySelector('#linked a[aria-label="Link Mock"]')`},
		{"idp_link=error&detail=" + e, `document.getElementById('linked-error').textContent === 'Linking did not complete. Try again.'`},
		{"idp_link=error&reason=conflict&detail=" + e, `document.getElementById('linked-error').textContent === 'That identity is already linked to another account.'`},
		// A step-up for an unknown provider is not offered.
		{"idp_link=error&reauth_required=true&idp_id=999&detail=" + e, `!!document.querySelector('#linked a[aria-label="Link Mock"]')`},
	} {
		do(t, ctx, "open "+c.query, chromedp.Navigate(s.URL+"/settings?tab=security&"+c.query))
		waitFor(t, ctx, c.query+" ready", `location.pathname === '/account/security' && `+c.ready)
		time.Sleep(100 * time.Millisecond)
		if body := text(t, ctx, `document.body.innerText`); strings.Contains(body, "EVIL") {
			t.Errorf("%s shows the query text:\n%s", c.query, body)
		}
		if ok := text(t, ctx, `document.getElementById('linked-ok').textContent`); ok != "" {
			t.Errorf("%s: success message %q", c.query, ok)
		}
		if text(t, ctx, `String(document.getElementById('relink').hidden && !document.getElementById('stepup').open)`) != "true" {
			t.Errorf("%s: a step-up is offered", c.query)
		}
	}
	screenshot(t, ctx, "query-text-not-shown")
}
