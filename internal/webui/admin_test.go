package webui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
)

// confirmAndStepUp accepts the confirmation dialog, then answers the step-up
// dialog with the admin's password.
func confirmAndStepUp(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	waitFor(t, ctx, what+": the confirmation", `document.getElementById('confirm').open`)
	do(t, ctx, what+": confirm", chromedp.Click(chromedp.CSS("#confirm-ok")))
	waitFor(t, ctx, what+": the step-up", `document.getElementById('stepup').open`)
	do(t, ctx, what+": password", chromedp.SendKeys(chromedp.CSS("#stepup-input"), browserPassword+"\r"))
	waitFor(t, ctx, what+": step-up closed", `!document.getElementById('stepup').open`)
}

// openUser searches for username and opens its detail view.
func openUser(t *testing.T, ctx context.Context, username string) {
	t.Helper()
	do(t, ctx, "search "+username, clear("user-q"), chromedp.SendKeys(chromedp.CSS("#user-q"), username+"\r"))
	waitFor(t, ctx, "the match for "+username, fmt.Sprintf(`document.querySelector('#users li[data-username=%q]') !== null && document.querySelectorAll('#users li').length === 1`, username))
	do(t, ctx, "open "+username, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#users li[data-username=%q] button`, username))))
	waitFor(t, ctx, "the detail of "+username, fmt.Sprintf(`!document.getElementById('user-detail').hidden && document.getElementById('h-detail').textContent.includes('(%s)')`, username))
}

func TestBrowserAdminConsole(t *testing.T) {
	eachSite(t, func(t *testing.T, s *site) {
		s.CreateUser("root", true)
		kim := s.CreateUser("kim", false)
		pat := s.CreateUser("pat", false)
		s.CreateUser("zed", false)
		for i := range 22 {
			s.CreateUser(fmt.Sprintf("member%02d", i), false)
		}
		if _, err := s.Store.DB().Exec(`UPDATE users SET active = FALSE, pending_admin_approval = TRUE, email_verified = TRUE WHERE id = $1`, pat.ID); err != nil {
			t.Fatal(err)
		}
		// Kim is signed in on her phone, with MFA.
		phone := s.NewClient("web")
		phone.MustLogin("kim")
		r := phone.Do("POST", "/api/v1/profile/mfa/setup", map[string]any{})
		secret, _ := r.JSON(t)["secret"].(string)
		if r := phone.Do("POST", "/api/v1/profile/mfa/enable", map[string]string{"mfa_code": totp(t, secret, s.Clock.Now())}); r.Status != 200 {
			t.Fatalf("kim's MFA: %d %s", r.Status, r.Body)
		}

		ctx := newBrowser(t)
		signIn(t, ctx, s, "root")
		do(t, ctx, "open admin", chromedp.Navigate(s.URL+"/admin"))
		waitFor(t, ctx, "the first page", `document.querySelectorAll('#users li[data-user]').length === 20 && document.getElementById('users-count').textContent === '26 users.'`)
		do(t, ctx, "next page", chromedp.Click(chromedp.CSS("#users-next")))
		waitFor(t, ctx, "the second page", `document.querySelectorAll('#users li[data-user]').length === 6 && document.getElementById('users-page').textContent === 'Page 2 of 2'`)
		// Search by email and by name.
		do(t, ctx, "search by email", chromedp.SendKeys(chromedp.CSS("#user-q"), "zed@example\r"))
		waitFor(t, ctx, "zed by email", `document.querySelectorAll('#users li[data-user]').length === 1 && document.querySelector('#users li[data-username="zed"]') !== null`)

		// Each action is confirmed and needs a fresh step-up (the admin's
		// sign-in and last step-up are 11 minutes old each time).
		openUser(t, ctx, "kim")
		facts := text(t, ctx, `document.getElementById('detail-facts').innerText`)
		for _, want := range []string{"kim@example.com", "Two-factor authentication\nOn", "Sessions\n1", "Active\nYes"} {
			if !strings.Contains(facts, want) {
				t.Errorf("facts %q lack %q", facts, want)
			}
		}
		screenshots(t, ctx, "admin-user")
		s.Clock.Advance(11 * time.Minute)
		do(t, ctx, "deactivate", chromedp.Click(chromedp.CSS("#act-active")))
		confirmAndStepUp(t, ctx, "deactivate")
		waitFor(t, ctx, "deactivated", `document.getElementById('detail-ok').textContent === 'kim was deactivated and signed out everywhere.' && document.getElementById('detail-facts').innerText.includes('No, deactivated')`)
		if r := phone.Do("GET", "/api/v1/profile", nil); r.Status != 401 {
			t.Errorf("kim's session after the deactivation: %d", r.Status)
		}

		s.Clock.Advance(11 * time.Minute)
		do(t, ctx, "reset MFA", chromedp.Click(chromedp.CSS("#act-mfa")))
		confirmAndStepUp(t, ctx, "reset MFA")
		waitFor(t, ctx, "MFA reset", `document.getElementById('detail-ok').textContent.startsWith('Two-factor authentication was turned off for kim') && document.getElementById('act-mfa').hidden`)
		var factors int
		s.Store.DB().QueryRow(`SELECT COUNT(*) FROM mfa_factors WHERE user_id = $1`, kim.ID).Scan(&factors)
		if factors != 0 {
			t.Errorf("kim still has %d MFA factors", factors)
		}

		s.Clock.Advance(11 * time.Minute)
		openUser(t, ctx, "pat")
		do(t, ctx, "approve", chromedp.Click(chromedp.CSS("#act-approve")))
		confirmAndStepUp(t, ctx, "approve")
		waitFor(t, ctx, "approved", `document.getElementById('detail-ok').textContent === 'pat was approved and can sign in.' && document.getElementById('act-approve').hidden`)
		if r := s.NewClient("web").Login("pat", httpapitest.Password); r.Status != 200 {
			t.Errorf("pat signs in after the approval: %d %s", r.Status, r.Body)
		}

		s.Clock.Advance(11 * time.Minute)
		openUser(t, ctx, "zed")
		do(t, ctx, "delete", chromedp.Click(chromedp.CSS("#act-delete")))
		waitFor(t, ctx, "the warning", `document.getElementById('confirm-warning').textContent === 'This cannot be undone.'`)
		screenshot(t, ctx, "admin-confirm-delete")
		confirmAndStepUp(t, ctx, "delete")
		waitFor(t, ctx, "deleted", `document.getElementById('users-ok').textContent === 'zed was deleted with all their data.' && document.getElementById('user-detail').hidden`)
		var n int
		s.Store.DB().QueryRow(`SELECT COUNT(*) FROM users WHERE username = 'zed'`).Scan(&n)
		if n != 0 {
			t.Error("zed is still there")
		}
		// Cancelling the step-up does nothing and says so.
		s.Clock.Advance(11 * time.Minute)
		openUser(t, ctx, "member01")
		do(t, ctx, "deactivate member01", chromedp.Click(chromedp.CSS("#act-active")))
		waitFor(t, ctx, "the confirmation", `document.getElementById('confirm').open`)
		do(t, ctx, "confirm", chromedp.Click(chromedp.CSS("#confirm-ok")))
		waitFor(t, ctx, "the step-up", `document.getElementById('stepup').open`)
		do(t, ctx, "cancel", chromedp.Click(chromedp.CSS("#stepup-cancel")))
		waitFor(t, ctx, "the refusal", `document.getElementById('detail-error').textContent.startsWith('Cancelled')`)
		var active bool
		s.Store.DB().QueryRow(`SELECT active FROM users WHERE username = 'member01'`).Scan(&active)
		if !active {
			t.Error("member01 was deactivated without a step-up")
		}

		// Server settings round-trip through the page.
		do(t, ctx, "reload", chromedp.Navigate(s.URL+"/admin"))
		waitFor(t, ctx, "the settings", `document.getElementById('s-local').checked === true`)
		var before map[string]any
		apiJSON(t, ctx, "/api/v1/server_settings", &before)
		do(t, ctx, "change settings", chromedp.Click(chromedp.CSS("#s-signup")), chromedp.Click(chromedp.CSS("#s-approval")),
			chromedp.SetValue(chromedp.CSS("#s-units"), "2"), clear("s-perpage"), chromedp.SendKeys(chromedp.CSS("#s-perpage"), "35"),
			chromedp.Click(chromedp.CSS(`#settings-form button[type="submit"]`)))
		waitFor(t, ctx, "the settings' step-up", `document.getElementById('stepup').open`)
		do(t, ctx, "password", chromedp.SendKeys(chromedp.CSS("#stepup-input"), browserPassword+"\r"))
		waitFor(t, ctx, "saved", `document.getElementById('settings-ok').textContent === 'Server settings saved.'`)
		var got map[string]any
		apiJSON(t, ctx, "/api/v1/server_settings", &got)
		if got["signup_enabled"] == before["signup_enabled"] || got["signup_require_admin_approval"] == before["signup_require_admin_approval"] ||
			got["signup_require_email_verification"] != before["signup_require_email_verification"] || got["units"] != 2.0 || got["num_records_per_page"] != 35.0 || got["local_login_enabled"] != true {
			t.Errorf("settings after saving: %v", got)
		}
		do(t, ctx, "reload", chromedp.Navigate(s.URL+"/admin"))
		waitFor(t, ctx, "the saved settings", fmt.Sprintf(`document.getElementById('s-signup').checked === %v && document.getElementById('s-approval').checked === %v && document.getElementById('s-units').value === '2' && document.getElementById('s-perpage').value === '35'`,
			got["signup_enabled"], got["signup_require_admin_approval"]))
		// Turning local sign-in off warns first; cancelling keeps it on.
		do(t, ctx, "untick local sign-in", chromedp.Click(chromedp.CSS("#s-local")))
		waitFor(t, ctx, "the inline warning", `!document.getElementById('s-local-warning').hidden`)
		do(t, ctx, "save", chromedp.Click(chromedp.CSS(`#settings-form button[type="submit"]`)))
		waitFor(t, ctx, "the warning dialog", `document.getElementById('confirm').open && document.getElementById('confirm-warning').textContent.includes('administrators included')`)
		screenshot(t, ctx, "admin-local-login-warning")
		do(t, ctx, "cancel", chromedp.Click(chromedp.CSS("#confirm-cancel")))
		apiJSON(t, ctx, "/api/v1/server_settings", &got)
		if got["local_login_enabled"] != true {
			t.Error("local sign-in was turned off after cancelling")
		}
		do(t, ctx, "tick it again", chromedp.Click(chromedp.CSS("#s-local")), chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		screenshots(t, ctx, "admin")
	})
}
