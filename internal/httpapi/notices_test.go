package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/testkit"
)

// noticesBySubject delivers the outbox and counts what reached addr by subject.
func noticesBySubject(t *testing.T, e *httpapitest.Env, addr string) map[string]int {
	t.Helper()
	e.DeliverMail()
	out := map[string]int{}
	for _, m := range e.SMTP.To(addr) {
		out[m.Subject]++
		if strings.HasPrefix(m.Subject, "Your trailpass password was reset") || strings.Contains(m.Subject, "Reset your") {
			continue
		}
		for _, want := range []string{"When: ", "Device: ", "Address: ", "If this was not you"} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("notice %q lacks %q:\n%s", m.Subject, want, m.Text)
			}
		}
	}
	return out
}

func expectNotice(t *testing.T, e *httpapitest.Env, addr, subject string, before map[string]int) map[string]int {
	t.Helper()
	now := noticesBySubject(t, e, addr)
	if now[subject] != before[subject]+1 {
		t.Fatalf("notice %q: %d sent, want %d (all: %v)", subject, now[subject]-before[subject], 1, now)
	}
	total := func(m map[string]int) (n int) {
		for _, v := range m {
			n += v
		}
		return n
	}
	if total(now) != total(before)+1 {
		t.Fatalf("after %q: %d new messages, want 1 (%v)", subject, total(now)-total(before), now)
	}
	return now
}

func TestSecurityNotices_EachOnce(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.EnableMail()
		op := testkit.StartOIDC(t)
		u := verifiedUser(t, e, "nia")
		addr := u.Email
		c := e.NewClient("web")
		c.MustLogin("nia") // the first sign-in ever: no new-device notice
		seen := noticesBySubject(t, e, addr)
		if len(seen) != 0 {
			t.Fatalf("first sign-in sent %v", seen)
		}
		// The same device again: nothing.
		e.NewClient("web").MustLogin("nia")
		if got := noticesBySubject(t, e, addr); len(got) != 0 {
			t.Fatalf("known device sent %v", got)
		}
		// Another browser and system: one notice.
		ff := e.NewClient("web")
		ff.UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
		ff.IP = "203.0.113.9"
		ff.MustLogin("nia")
		seen = expectNotice(t, e, addr, "New sign-in to your trailpass account", seen)
		if m := e.SMTP.To(addr)[len(e.SMTP.To(addr))-1]; !strings.Contains(m.Text, "Firefox on Windows (PC)") {
			t.Fatalf("new-device notice names no device:\n%s", m.Text)
		}
		// Turned off, a further new device sends nothing; only this notice can be.
		if r := c.Do("PUT", "/api/v1/profile/notices", map[string]bool{"new_sign_in": false}); r.Status != 200 {
			t.Fatalf("turn off: %d %s", r.Status, r.Body)
		}
		if r := c.Do("GET", "/api/v1/profile/notices", nil); r.JSON(t)["new_sign_in"] != false {
			t.Fatalf("settings: %s", r.Body)
		}
		mac := e.NewClient("web")
		mac.UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
		mac.MustLogin("nia")
		if got := noticesBySubject(t, e, addr); got["New sign-in to your trailpass account"] != seen["New sign-in to your trailpass account"] {
			t.Fatalf("new-device notice sent while turned off")
		}

		// MFA on.
		secret, _ := enableMFA(t, e, c)
		seen = expectNotice(t, e, addr, "Two-step verification is on for your trailpass account", seen)
		// Backup codes regenerated (the sign-in is recent enough).
		r := c.Do("POST", "/api/v1/profile/mfa/backup-codes", nil)
		if r.Status != 201 {
			t.Fatalf("regenerate: %d %s", r.Status, r.Body)
		}
		var body struct {
			BackupCodes []string `json:"backup_codes"`
		}
		jsonUnmarshal(r.Body, &body)
		seen = expectNotice(t, e, addr, "New backup codes for your trailpass account", seen)
		// Using codes: a notice only when 2 or fewer are left, one per use.
		for i := 0; i < 7; i++ {
			if r := c.Do("POST", "/api/v1/profile/mfa/verify", map[string]string{"mfa_code": body.BackupCodes[i]}); r.Status != 200 {
				t.Fatalf("backup code %d: %d %s", i, r.Status, r.Body)
			}
		}
		if got := noticesBySubject(t, e, addr); got["Few backup codes left on your trailpass account"] != 0 {
			t.Fatalf("low-codes notice with 3 left")
		}
		if r := c.Do("POST", "/api/v1/profile/mfa/verify", map[string]string{"mfa_code": body.BackupCodes[7]}); r.Status != 200 {
			t.Fatalf("backup code 8: %d %s", r.Status, r.Body)
		}
		seen = expectNotice(t, e, addr, "Few backup codes left on your trailpass account", seen)
		if m := e.SMTP.To(addr)[len(e.SMTP.To(addr))-1]; !strings.Contains(m.Text, "2 unused codes are left") {
			t.Fatalf("low-codes notice: %s", m.Text)
		}
		// A replayed code changes nothing and sends nothing.
		if r := c.Do("POST", "/api/v1/profile/mfa/verify", map[string]string{"mfa_code": body.BackupCodes[7]}); r.Status == 200 {
			t.Fatalf("replayed backup code accepted")
		}
		if got := noticesBySubject(t, e, addr); got["Few backup codes left on your trailpass account"] != 1 {
			t.Fatalf("replay sent a notice: %v", got)
		}
		// MFA off.
		e.Clock.Advance(30 * time.Second)
		if r := c.Do("POST", "/api/v1/profile/mfa/disable", map[string]string{"mfa_code": totp(t, secret, e.Clock.Now())}); r.Status != 200 {
			t.Fatalf("disable: %d %s", r.Status, r.Body)
		}
		seen = expectNotice(t, e, addr, "Two-step verification is off for your trailpass account", seen)

		// Identity provider linked and unlinked.
		root := e.CreateUser("root", true)
		_ = root
		admin := e.NewClient("web")
		admin.MustLogin("root")
		r = admin.Do("POST", "/api/v1/idp", map[string]any{"name": "Mock", "slug": "mock", "provider_type": "oidc", "enabled": true,
			"client_id": op.ClientID(), "client_secret": op.ClientSecret(), "issuer_url": op.Issuer(), "scopes": "openid profile email"})
		if r.Status != 201 {
			t.Fatalf("create idp: %d %s", r.Status, r.Body)
		}
		idpID := itoa(int64(r.JSON(t)["id"].(float64)))
		op.QueueUser("sub-nia", "nia-at-idp", "nia@idp.example", true)
		if dest := ssoFlow(t, op, c, "/api/v1/profile/idp/"+idpID+"/link"); dest.Query().Get("idp_link") != "success" {
			t.Fatalf("link: %s", dest)
		}
		seen = expectNotice(t, e, addr, "A sign-in provider was linked to your trailpass account", seen)
		if r := c.Do("DELETE", "/api/v1/profile/idp/"+idpID, nil); r.Status != 204 {
			t.Fatalf("unlink: %d %s", r.Status, r.Body)
		}
		seen = expectNotice(t, e, addr, "A sign-in provider was unlinked from your trailpass account", seen)
		// Unlinking what is not linked changes nothing and sends nothing.
		if r := c.Do("DELETE", "/api/v1/profile/idp/"+idpID, nil); r.Status != 404 {
			t.Fatalf("second unlink: %d %s", r.Status, r.Body)
		}

		// Password changed.
		if r := c.Do("PUT", "/api/v1/profile/password", map[string]string{"password": "Brand!New9pass", "current_password": httpapitest.Password}); r.Status != 200 {
			t.Fatalf("password: %d %s", r.Status, r.Body)
		}
		seen = expectNotice(t, e, addr, "Your trailpass password was changed", seen)

		// Email changed: the notice goes to the old address, once.
		body2 := webAppProfileBody(u.ID, "nia")
		body2["email"] = "nia.new@example.com"
		if r := c.Do("PUT", "/api/v1/profile", body2); r.Status != 200 {
			t.Fatalf("email change: %d %s", r.Status, r.Body)
		}
		seen = expectNotice(t, e, addr, "The email address of your trailpass account was changed", seen)
		if m := e.SMTP.To(addr)[len(e.SMTP.To(addr))-1]; !strings.Contains(m.Text, "nia.new@example.com") {
			t.Fatalf("email-change notice: %s", m.Text)
		}
		if n := len(e.SMTP.To("nia.new@example.com")); n != 0 {
			t.Fatalf("the new, unverified address got %d messages", n)
		}
		_ = seen
	})
}

// Adding a passkey is a new way into the account: its owner hears of it once,
// with the passkey's name.
func TestSecurityNotices_PasskeyAdded(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.EnableMail()
		u := verifiedUser(t, e, "pim")
		c := e.NewClient("web")
		c.MustLogin("pim")
		seen := noticesBySubject(t, e, u.Email)
		registerPasskey(t, c, testkit.NewAuthenticator(pkOrigin(e)), "Pim's laptop")
		expectNotice(t, e, u.Email, "A passkey was added to your trailpass account", seen)
		if m := e.SMTP.To(u.Email)[len(e.SMTP.To(u.Email))-1]; !strings.Contains(m.Text, `"Pim's laptop"`) {
			t.Fatalf("passkey notice does not name the passkey:\n%s", m.Text)
		}
	})
}
