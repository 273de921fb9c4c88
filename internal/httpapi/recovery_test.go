package httpapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/testkit"
)

// verifiedUser makes an active account whose email is verified, the address
// security notices go to.
func verifiedUser(t *testing.T, e *httpapitest.Env, username string) *account.User {
	t.Helper()
	u, err := e.Accounts.CreateUser(context.Background(), account.NewUser{Username: username, Email: username + "@example.com",
		Password: httpapitest.Password, EmailVerified: true})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("no token in link %q", link)
	}
	return u.Query().Get("token")
}

func TestPasswordReset_EndToEnd(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		smtp := e.EnableMail()
		u := verifiedUser(t, e, "rita")
		// A signed-in browser and app, and MFA on: the reset must end both
		// sessions and keep MFA.
		web := e.NewClient("web")
		web.MustLogin("rita")
		secret, _ := enableMFA(t, e, web)
		e.DeliverMail() // the MFA-enabled notice
		before := len(smtp.Messages())
		mobile := e.NewClient("mobile")
		e.Clock.Advance(30 * time.Second) // a fresh TOTP step
		if _, r := mfaLogin(t, mobile, "rita", totp(t, secret, e.Clock.Now())); r.Status != 200 {
			t.Fatalf("mobile sign-in: %d %s", r.Status, r.Body)
		}

		anon := e.NewClient("web")
		r := anon.Do("POST", "/api/v1/password-reset/request", map[string]string{"email": "  Rita@Example.com "})
		if r.Status != 200 || r.JSON(t)["message"] != account.MsgResetRequested {
			t.Fatalf("request: %d %s", r.Status, r.Body)
		}
		msgs := e.DeliverMail()
		if len(msgs) != before+1 {
			t.Fatalf("got %d messages, want %d", len(msgs), before+1)
		}
		m := msgs[len(msgs)-1]
		if m.To[0] != u.Email || !strings.Contains(m.Subject, "Reset your") || m.HTML == "" {
			t.Fatalf("reset mail: to %v subject %q html %d bytes", m.To, m.Subject, len(m.HTML))
		}
		link := m.Link("/reset-password?token=")
		if !strings.HasPrefix(link, e.URL+"/reset-password?token=") {
			t.Fatalf("link %q in %q", link, m.Text)
		}
		token := tokenOf(t, link)
		if len(token) < 43 {
			t.Fatalf("token %q is shorter than 256 bits", token)
		}

		// Policy first: a weak password spends nothing.
		r = anon.Do("POST", "/api/v1/password-reset/confirm", map[string]string{"token": token, "new_password": "short"})
		if r.Status != 422 {
			t.Fatalf("weak password: %d %s", r.Status, r.Body)
		}
		const newPass = "N3w!Password-ok"
		r = anon.Do("POST", "/api/v1/password-reset/confirm", map[string]string{"token": token, "new_password": newPass})
		if r.Status != 200 || r.JSON(t)["message"] != account.MsgResetDone {
			t.Fatalf("confirm: %d %s", r.Status, r.Body)
		}
		// Once only.
		r = anon.Do("POST", "/api/v1/password-reset/confirm", map[string]string{"token": token, "new_password": newPass + "2"})
		if r.Status != 400 || r.Detail() != account.MsgResetBadToken {
			t.Fatalf("second use: %d %s", r.Status, r.Body)
		}
		// Every session ended.
		if r := web.Do("GET", "/api/v1/profile", nil); r.Status != 401 {
			t.Fatalf("web session after reset: %d", r.Status)
		}
		if r := mobile.Do("GET", "/api/v1/profile", nil); r.Status != 401 {
			t.Fatalf("mobile session after reset: %d", r.Status)
		}
		// The old password is gone, the new one needs MFA still.
		if r := e.NewClient("mobile").Login("rita", httpapitest.Password); r.Status != 401 {
			t.Fatalf("old password: %d %s", r.Status, r.Body)
		}
		fresh := e.NewClient("mobile")
		r = fresh.Do("POST", "/api/v1/token", url.Values{"username": {"rita"}, "password": {newPass}})
		if r.Status != 202 && !(r.Status == 200 && r.JSON(t)["mfa_required"] == true) {
			t.Fatalf("sign-in after reset must still ask for MFA: %d %s", r.Status, r.Body)
		}
		// The notice of the reset, once.
		msgs = e.DeliverMail()
		var notices int
		for _, m := range msgs {
			if strings.Contains(m.Subject, "password was reset") {
				notices++
				if !strings.Contains(m.Text, "If this was not you") || !strings.Contains(m.Text, "Address: ") {
					t.Fatalf("notice text: %s", m.Text)
				}
			}
		}
		if notices != 1 {
			t.Fatalf("reset notices: %d", notices)
		}
	})
}

func TestPasswordReset_UnknownAddressSameAnswer(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.Recovery.Floor = 200 * time.Millisecond
		smtp := e.EnableMail()
		e.CreateUser("known", false)
		c := e.NewClient("web")
		ask := func(email string) (int, string, time.Duration) {
			start := time.Now()
			r := c.Do("POST", "/api/v1/password-reset/request", map[string]string{"email": email})
			return r.Status, string(r.Body), time.Since(start)
		}
		s1, b1, d1 := ask("known@example.com")
		s2, b2, d2 := ask("nobody@example.com")
		if s1 != s2 || b1 != b2 {
			t.Fatalf("answers differ: %d %s / %d %s", s1, b1, s2, b2)
		}
		for _, d := range []time.Duration{d1, d2} {
			if d < 200*time.Millisecond || d > 1500*time.Millisecond {
				t.Fatalf("timing %v outside the floor", d)
			}
		}
		e.DeliverMail()
		if n := len(smtp.To("nobody@example.com")); n != 0 {
			t.Fatalf("mail to an unknown address: %d", n)
		}
		if n := len(smtp.To("known@example.com")); n != 1 {
			t.Fatalf("mail to the known address: %d", n)
		}
	})
}

func TestPasswordReset_ThrottledPerEmail(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.EnableMail()
		c := e.NewClient("web")
		for i := 0; i < 3; i++ {
			if r := c.Do("POST", "/api/v1/password-reset/request", map[string]string{"email": "x@example.com"}); r.Status != 200 {
				t.Fatalf("request %d: %d", i, r.Status)
			}
		}
		r := c.Do("POST", "/api/v1/password-reset/request", map[string]string{"email": "x@example.com"})
		if r.Status != 429 || r.Detail() == "" {
			t.Fatalf("fourth request: %d %s", r.Status, r.Body)
		}
		// Another address is not held up by that one.
		if r := c.Do("POST", "/api/v1/password-reset/request", map[string]string{"email": "y@example.com"}); r.Status != 200 {
			t.Fatalf("other address: %d %s", r.Status, r.Body)
		}
	})
}

func TestPasswordReset_WithoutSMTP(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("known", false)
		c := e.NewClient("web")
		for _, tc := range []struct {
			path string
			body map[string]string
		}{
			{"/api/v1/password-reset/request", map[string]string{"email": "known@example.com"}},
			{"/api/v1/password-reset/confirm", map[string]string{"token": "x", "new_password": "N3w!Password-ok"}},
		} {
			r := c.Do("POST", tc.path, tc.body)
			if r.Status < 400 || r.Status >= 500 || r.Detail() != account.MsgEmailNotConfigured {
				t.Fatalf("%s without SMTP: %d %s", tc.path, r.Status, r.Body)
			}
		}
		r := c.Do("GET", "/api/v1/public/server_settings", nil)
		if r.Status != 200 || r.JSON(t)["email_enabled"] != false {
			t.Fatalf("server settings: %s", r.Body)
		}
		e.EnableMail()
		if r := c.Do("GET", "/api/v1/public/server_settings", nil); r.JSON(t)["email_enabled"] != true {
			t.Fatalf("server settings with SMTP: %s", r.Body)
		}
		// Bad input is a 4xx with a detail, and leaves nothing behind.
		for _, body := range []string{`{}`, `{"email": "not an address"}`, `[1]`} {
			r := c.Do("POST", "/api/v1/password-reset/request", body)
			if r.Status != 422 {
				t.Fatalf("%s: %d %s", body, r.Status, r.Body)
			}
		}
		if p, _, _, _ := e.Store.MailCounts(context.Background()); p != 0 {
			t.Fatalf("bad requests queued %d messages", p)
		}
	})
}
