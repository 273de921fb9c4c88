package httpapi_test

import (
	"encoding/base32"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/mfa"
	"github.com/trailpass/trailpass/internal/testkit"
)

// totp computes the code an authenticator app would show for secret at t.
func totp(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return mfa.Code(key, at, mfa.SHA1, 6, 30*time.Second)
}

// enableMFA runs setup and enable for a signed-in client and returns the secret
// and the backup codes.
func enableMFA(t *testing.T, e *testEnv, c *client) (string, []string) {
	t.Helper()
	r := c.do("POST", "/api/v1/profile/mfa/setup", map[string]any{})
	if r.Status != 200 {
		t.Fatalf("setup: %d %s", r.Status, r.Body)
	}
	m := r.json(t)
	secret := m["secret"].(string)
	if !strings.HasPrefix(m["qr_code"].(string), "data:image/png;base64,") || m["app_name"] != "Trailpass" ||
		!strings.HasPrefix(m["otpauth_uri"].(string), "otpauth://totp/Trailpass:") || len(secret) != 32 {
		t.Fatalf("setup body: %s", r.Body)
	}
	r = c.do("POST", "/api/v1/profile/mfa/enable", map[string]string{"mfa_code": totp(t, secret, e.Clock.Now())})
	if r.Status != 200 {
		t.Fatalf("enable: %d %s", r.Status, r.Body)
	}
	var body struct {
		BackupCodes []string `json:"backup_codes"`
	}
	jsonUnmarshal(r.Body, &body)
	if len(body.BackupCodes) != 10 {
		t.Fatalf("backup codes: %s", r.Body)
	}
	return secret, body.BackupCodes
}

// mfaLogin runs the password step and then /mfa/verify with code.
func mfaLogin(t *testing.T, c *client, username, code string) (*response, *response) {
	t.Helper()
	first := c.login(username, testPassword)
	body := map[string]string{"username": username, "mfa_code": code}
	if c.ct == "mobile" {
		var m map[string]any
		jsonUnmarshal(first.Body, &m)
		if tk, ok := m["mfa_ticket"].(string); ok {
			body["mfa_ticket"] = tk
		}
	}
	second := c.do("POST", "/api/v1/mfa/verify", body)
	c.keepTokens(second)
	return first, second
}

func TestMFA_LoginContract(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := newEnv(t, b)
		e.createUser("mia", false)
		owner := e.newClient("web")
		owner.mustLogin("mia")
		secret, backup := enableMFA(t, e, owner)

		t.Run("L3_V1_Web", func(t *testing.T) {
			e.Clock.Advance(30 * time.Second)
			c := e.newClient("web")
			first, second := mfaLogin(t, c, "Mia", totp(t, secret, e.Clock.Now()))
			m := first.json(t)
			if first.Status != 202 || m["mfa_required"] != true || m["username"] != "Mia" || m["message"] != "MFA verification required" {
				t.Fatalf("L3: %d %s", first.Status, first.Body)
			}
			for _, sc := range first.Header.Values("Set-Cookie") {
				if strings.HasPrefix(sc, "endurain_") {
					t.Fatalf("L3 set an auth cookie: %s", sc)
				}
			}
			if second.Status != 200 || !uuidRE.MatchString(second.json(t)["session_id"].(string)) || c.cookie("endurain_access_token") == "" {
				t.Fatalf("V1: %d %s", second.Status, second.Body)
			}
		})
		t.Run("L4_V2_Mobile", func(t *testing.T) {
			e.Clock.Advance(30 * time.Second)
			c := e.newClient("mobile")
			first, second := mfaLogin(t, c, "mia", totp(t, secret, e.Clock.Now()))
			if first.Status != 200 || first.json(t)["mfa_required"] != true || first.json(t)["access_token"] != nil {
				t.Fatalf("L4: %d %s", first.Status, first.Body)
			}
			if second.Status != 200 || c.access == "" || second.json(t)["token_type"] != "Bearer" {
				t.Fatalf("V2: %d %s", second.Status, second.Body)
			}
		})
		t.Run("V3_NoPendingLogin", func(t *testing.T) {
			c := e.newClient("web")
			r := c.do("POST", "/api/v1/mfa/verify", map[string]string{"username": "mia", "mfa_code": "123456"})
			if r.Status != 400 || r.detail() != "No pending MFA login found for this username" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			// A ticket is bound to its username: another name gets nothing.
			c.login("mia", testPassword)
			r = c.do("POST", "/api/v1/mfa/verify", map[string]string{"username": "other", "mfa_code": "123456"})
			if r.Status != 400 {
				t.Fatalf("ticket of another username: %d %s", r.Status, r.Body)
			}
		})
		t.Run("V4_WrongCodeKeepsTicket", func(t *testing.T) {
			e.Clock.Advance(30 * time.Second)
			c := e.newClient("web")
			c.login("mia", testPassword)
			r := c.do("POST", "/api/v1/mfa/verify", map[string]string{"username": "mia", "mfa_code": "000000"})
			if r.Status != 401 || r.detail() != "Invalid MFA code" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			r = c.do("POST", "/api/v1/mfa/verify", map[string]string{"username": "mia", "mfa_code": totp(t, secret, e.Clock.Now())})
			if r.Status != 200 {
				t.Fatalf("right code after a wrong one: %d %s", r.Status, r.Body)
			}
		})
		t.Run("BackupCodeOnce", func(t *testing.T) {
			c := e.newClient("web")
			if _, r := mfaLogin(t, c, "mia", strings.ToLower(backup[0])); r.Status != 200 {
				t.Fatalf("backup code: %d %s", r.Status, r.Body)
			}
			if _, r := mfaLogin(t, e.newClient("web"), "mia", backup[0]); r.Status != 401 {
				t.Fatalf("backup code reused: %d %s", r.Status, r.Body)
			}
		})
		t.Run("SameTOTPTwice", func(t *testing.T) {
			e.Clock.Advance(30 * time.Second)
			code := totp(t, secret, e.Clock.Now())
			if _, r := mfaLogin(t, e.newClient("web"), "mia", code); r.Status != 200 {
				t.Fatalf("first use: %d", r.Status)
			}
			if _, r := mfaLogin(t, e.newClient("web"), "mia", code); r.Status != 401 {
				t.Fatalf("replayed code: %d %s", r.Status, r.Body)
			}
		})
		t.Run("TicketIsSingleUseAndExpires", func(t *testing.T) {
			e.Clock.Advance(30 * time.Second)
			c := e.newClient("mobile")
			first := c.login("mia", testPassword)
			ticket := first.json(t)["mfa_ticket"].(string)
			e.Clock.Advance(6 * time.Minute)
			r := c.do("POST", "/api/v1/mfa/verify", map[string]string{"username": "mia", "mfa_code": totp(t, secret, e.Clock.Now()), "mfa_ticket": ticket})
			if r.Status != 400 {
				t.Fatalf("expired ticket: %d %s", r.Status, r.Body)
			}
		})
		t.Run("V6_Inactive", func(t *testing.T) {
			e.Clock.Advance(30 * time.Second)
			c := e.newClient("web")
			c.login("mia", testPassword)
			e.Store.DB().Exec(`UPDATE users SET active = FALSE WHERE username = 'mia'`)
			defer e.Store.DB().Exec(`UPDATE users SET active = TRUE WHERE username = 'mia'`)
			r := c.do("POST", "/api/v1/mfa/verify", map[string]string{"username": "mia", "mfa_code": totp(t, secret, e.Clock.Now())})
			if r.Status != 403 || r.detail() != "Inactive user" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	})
}

func TestMFA_Management(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := newEnv(t, b)
		e.createUser("noor", false)
		c := e.newClient("web")
		c.mustLogin("noor")
		if r := c.do("GET", "/api/v1/profile/mfa/status", nil); r.Status != 200 || r.json(t)["mfa_enabled"] != false {
			t.Fatalf("status: %d %s", r.Status, r.Body)
		}
		if r := c.do("POST", "/api/v1/profile/mfa/enable", map[string]string{"mfa_code": "123456"}); r.Status != 400 ||
			r.detail() != "No MFA setup in progress. Please run setup first." {
			t.Fatalf("enable without setup: %d %s", r.Status, r.Body)
		}
		// Setup through one instance, enable through another on the same database.
		r := c.do("POST", "/api/v1/profile/mfa/setup", nil)
		secret := r.json(t)["secret"].(string)
		if r := c.do("POST", "/api/v1/profile/mfa/enable", map[string]string{"mfa_code": "000000"}); r.Status != 400 || r.detail() != "Invalid MFA code" {
			t.Fatalf("wrong code at enable: %d %s", r.Status, r.Body)
		}
		second := newEnv(t, b, func(e2 *testEnv) {})
		second.Clock.Advance(e.Clock.Now().Sub(second.Clock.Now()))
		c2 := second.newClient("web")
		c2.http.Jar = c.http.Jar // same browser, other instance
		u2, _ := url.Parse(second.URL)
		u1, _ := url.Parse(e.URL)
		c2.http.Jar.SetCookies(u2, c.http.Jar.Cookies(u1))
		r = c2.do("POST", "/api/v1/profile/mfa/enable", map[string]string{"mfa_code": totp(t, secret, e.Clock.Now())})
		if r.Status != 200 {
			t.Fatalf("enable on the second instance: %d %s", r.Status, r.Body)
		}
		var codes struct {
			BackupCodes []string `json:"backup_codes"`
		}
		jsonUnmarshal(r.Body, &codes)
		if st := c.do("GET", "/api/v1/profile/mfa/status", nil).json(t); st["mfa_enabled"] != true || st["backup_codes_remaining"] != float64(10) {
			t.Fatalf("status after enable: %v", st)
		}
		if r := c.do("GET", "/api/v1/profile", nil); r.json(t)["mfa_enabled"] != true {
			t.Fatalf("profile does not show MFA: %s", r.Body)
		}
		bs := c.do("GET", "/api/v1/profile/mfa/backup-codes/status", nil).json(t)
		if bs["total"] != float64(10) || bs["remaining"] != float64(10) || bs["created_at"] == nil {
			t.Fatalf("backup status: %v", bs)
		}

		// Regenerating needs a recent step-up.
		e.Clock.Advance(11 * time.Minute)
		c.refreshNow()
		if r := c.do("POST", "/api/v1/profile/mfa/backup-codes", nil); r.Status != 403 {
			t.Fatalf("regenerate without step-up: %d %s", r.Status, r.Body)
		}
		if r := c.do("POST", "/api/v1/profile/mfa/verify", map[string]string{"mfa_code": totp(t, secret, e.Clock.Now())}); r.Status != 200 {
			t.Fatalf("step-up: %d %s", r.Status, r.Body)
		}
		r = c.do("POST", "/api/v1/profile/mfa/backup-codes", nil)
		if r.Status != 200 || strings.Contains(string(r.Body), codes.BackupCodes[0]) {
			t.Fatalf("regenerate: %d %s", r.Status, r.Body)
		}

		// Disable with a code signs out every other session.
		other := e.newClient("mobile")
		e.Clock.Advance(30 * time.Second)
		if _, r := mfaLogin(t, other, "noor", totp(t, secret, e.Clock.Now())); r.Status != 200 {
			t.Fatalf("second device: %d", r.Status)
		}
		e.Clock.Advance(30 * time.Second)
		r = c.do("POST", "/api/v1/profile/mfa/disable", map[string]string{"mfa_code": totp(t, secret, e.Clock.Now())})
		if r.Status != 200 || r.json(t)["message"] != "MFA disabled successfully" || r.json(t)["sessions_revoked"] != float64(1) {
			t.Fatalf("disable: %d %s", r.Status, r.Body)
		}
		if r := other.do("GET", "/api/v1/profile", nil); r.Status != 401 {
			t.Fatalf("other session survived MFA disable: %d", r.Status)
		}
		if r := c.do("GET", "/api/v1/profile/mfa/status", nil); r.json(t)["mfa_enabled"] != false {
			t.Fatalf("still enabled: %s", r.Body)
		}

		// Secrets appear in no log line and no later response.
		for _, leak := range append([]string{secret}, codes.BackupCodes...) {
			if strings.Contains(e.Logs.String(), leak) || strings.Contains(second.Logs.String(), leak) {
				t.Fatalf("log contains a secret %q", leak)
			}
		}
		if r := c.do("GET", "/api/v1/profile", nil); strings.Contains(string(r.Body), secret) {
			t.Fatal("profile leaks the secret")
		}
	})
}

// Six wrong codes lock sign-in verification and step-up alike.
func TestMFA_Lockout(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := newEnv(t, b)
		e.createUser("omar", false)
		owner := e.newClient("web")
		owner.mustLogin("omar")
		secret, _ := enableMFA(t, e, owner)
		wrong := func(i int) *response {
			if i%2 == 0 {
				return owner.do("POST", "/api/v1/profile/mfa/verify", map[string]string{"mfa_code": "000000"})
			}
			_, r := mfaLogin(t, e.newClient("web"), "omar", "000000")
			return r
		}
		for i := 0; i < 5; i++ {
			if r := wrong(i); r.Status != 400 && r.Status != 401 {
				t.Fatalf("wrong code %d: %d %s", i+1, r.Status, r.Body)
			}
		}
		r := wrong(5)
		if r.Status != 429 || r.Header.Get("Retry-After") != "900" {
			t.Fatalf("6th wrong code: %d %s (Retry-After %q)", r.Status, r.Body, r.Header.Get("Retry-After"))
		}
		e.Clock.Advance(30 * time.Second)
		if _, r := mfaLogin(t, e.newClient("web"), "omar", totp(t, secret, e.Clock.Now())); r.Status != 429 {
			t.Fatalf("right code while locked: %d", r.Status)
		}
		e.Clock.Advance(15 * time.Minute)
		if _, r := mfaLogin(t, e.newClient("web"), "omar", totp(t, secret, e.Clock.Now())); r.Status != 200 {
			t.Fatalf("after the lock: %d %s", r.Status, r.Body)
		}
	})
}

// Fifty concurrent step-ups with one valid code: exactly one succeeds.
func TestMFA_ConcurrentReplay(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := newEnv(t, b)
		e.createUser("pia", false)
		c := e.newClient("mobile")
		c.mustLogin("pia")
		secret, _ := enableMFA(t, e, c)
		e.Clock.Advance(30 * time.Second)
		code := totp(t, secret, e.Clock.Now())
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := c.do("POST", "/api/v1/profile/mfa/verify", map[string]string{"mfa_code": code})
				mu.Lock()
				defer mu.Unlock()
				if r.Status == 200 {
					ok++
				} else if r.Status != 400 && r.Status != 429 {
					t.Errorf("unexpected status %d %s", r.Status, r.Body)
				}
			}()
		}
		wg.Wait()
		if ok != 1 {
			t.Fatalf("%d of 50 concurrent uses of one code succeeded, want exactly 1", ok)
		}
	})
}
