package httpapi_test

import (
	"context"
	"encoding/base32"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
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
func enableMFA(t *testing.T, e *httpapitest.Env, c *httpapitest.Client) (string, []string) {
	t.Helper()
	r := c.Do("POST", "/api/v1/profile/mfa/setup", map[string]any{})
	if r.Status != 200 {
		t.Fatalf("setup: %d %s", r.Status, r.Body)
	}
	m := r.JSON(t)
	secret := m["secret"].(string)
	if !strings.HasPrefix(m["qr_code"].(string), "data:image/png;base64,") || m["app_name"] != "Trailpass" ||
		!strings.HasPrefix(m["otpauth_uri"].(string), "otpauth://totp/Trailpass:") || len(secret) != 32 {
		t.Fatalf("setup body: %s", r.Body)
	}
	r = c.Do("POST", "/api/v1/profile/mfa/enable", map[string]string{"mfa_code": totp(t, secret, e.Clock.Now())})
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
func mfaLogin(t *testing.T, c *httpapitest.Client, username, code string) (*httpapitest.Response, *httpapitest.Response) {
	t.Helper()
	first := c.Login(username, httpapitest.Password)
	body := map[string]string{"username": username, "mfa_code": code}
	if c.CT == "mobile" {
		var m map[string]any
		jsonUnmarshal(first.Body, &m)
		if tk, ok := m["mfa_ticket"].(string); ok {
			body["mfa_ticket"] = tk
		}
	}
	second := c.Do("POST", "/api/v1/mfa/verify", body)
	c.KeepTokens(second)
	return first, second
}

func TestMFA_LoginContract(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("mia", false)
		owner := e.NewClient("web")
		owner.MustLogin("mia")
		secret, backup := enableMFA(t, e, owner)

		t.Run("L3_V1_Web", func(t *testing.T) {
			e.Clock.Advance(30 * time.Second)
			c := e.NewClient("web")
			first, second := mfaLogin(t, c, "Mia", totp(t, secret, e.Clock.Now()))
			m := first.JSON(t)
			if first.Status != 202 || m["mfa_required"] != true || m["username"] != "Mia" || m["message"] != "MFA verification required" {
				t.Fatalf("L3: %d %s", first.Status, first.Body)
			}
			for _, sc := range first.Header.Values("Set-Cookie") {
				if strings.HasPrefix(sc, "endurain_") {
					t.Fatalf("L3 set an auth cookie: %s", sc)
				}
			}
			if second.Status != 200 || !uuidRE.MatchString(second.JSON(t)["session_id"].(string)) || c.Cookie("endurain_access_token") == "" {
				t.Fatalf("V1: %d %s", second.Status, second.Body)
			}
		})
		t.Run("L4_V2_Mobile", func(t *testing.T) {
			e.Clock.Advance(30 * time.Second)
			c := e.NewClient("mobile")
			first, second := mfaLogin(t, c, "mia", totp(t, secret, e.Clock.Now()))
			if first.Status != 200 || first.JSON(t)["mfa_required"] != true || first.JSON(t)["access_token"] != nil {
				t.Fatalf("L4: %d %s", first.Status, first.Body)
			}
			if second.Status != 200 || c.Access == "" || second.JSON(t)["token_type"] != "Bearer" {
				t.Fatalf("V2: %d %s", second.Status, second.Body)
			}
		})
		t.Run("V3_NoPendingLogin", func(t *testing.T) {
			c := e.NewClient("web")
			r := c.Do("POST", "/api/v1/mfa/verify", map[string]string{"username": "mia", "mfa_code": "123456"})
			if r.Status != 400 || r.Detail() != "No pending MFA login found for this username" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			// A ticket is bound to its username: another name gets nothing.
			c.Login("mia", httpapitest.Password)
			r = c.Do("POST", "/api/v1/mfa/verify", map[string]string{"username": "other", "mfa_code": "123456"})
			if r.Status != 400 {
				t.Fatalf("ticket of another username: %d %s", r.Status, r.Body)
			}
		})
		t.Run("V4_WrongCodeKeepsTicket", func(t *testing.T) {
			e.Clock.Advance(30 * time.Second)
			c := e.NewClient("web")
			c.Login("mia", httpapitest.Password)
			r := c.Do("POST", "/api/v1/mfa/verify", map[string]string{"username": "mia", "mfa_code": "000000"})
			if r.Status != 401 || r.Detail() != "Invalid MFA code" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			r = c.Do("POST", "/api/v1/mfa/verify", map[string]string{"username": "mia", "mfa_code": totp(t, secret, e.Clock.Now())})
			if r.Status != 200 {
				t.Fatalf("right code after a wrong one: %d %s", r.Status, r.Body)
			}
		})
		t.Run("BackupCodeOnce", func(t *testing.T) {
			c := e.NewClient("web")
			if _, r := mfaLogin(t, c, "mia", strings.ToLower(backup[0])); r.Status != 200 {
				t.Fatalf("backup code: %d %s", r.Status, r.Body)
			}
			if _, r := mfaLogin(t, e.NewClient("web"), "mia", backup[0]); r.Status != 401 {
				t.Fatalf("backup code reused: %d %s", r.Status, r.Body)
			}
		})
		t.Run("SameTOTPTwice", func(t *testing.T) {
			e.Clock.Advance(30 * time.Second)
			code := totp(t, secret, e.Clock.Now())
			if _, r := mfaLogin(t, e.NewClient("web"), "mia", code); r.Status != 200 {
				t.Fatalf("first use: %d", r.Status)
			}
			if _, r := mfaLogin(t, e.NewClient("web"), "mia", code); r.Status != 401 {
				t.Fatalf("replayed code: %d %s", r.Status, r.Body)
			}
		})
		t.Run("TicketIsSingleUseAndExpires", func(t *testing.T) {
			e.Clock.Advance(30 * time.Second)
			c := e.NewClient("mobile")
			first := c.Login("mia", httpapitest.Password)
			ticket := first.JSON(t)["mfa_ticket"].(string)
			e.Clock.Advance(6 * time.Minute)
			r := c.Do("POST", "/api/v1/mfa/verify", map[string]string{"username": "mia", "mfa_code": totp(t, secret, e.Clock.Now()), "mfa_ticket": ticket})
			if r.Status != 400 {
				t.Fatalf("expired ticket: %d %s", r.Status, r.Body)
			}
		})
		t.Run("V6_Inactive", func(t *testing.T) {
			e.Clock.Advance(30 * time.Second)
			c := e.NewClient("web")
			c.Login("mia", httpapitest.Password)
			e.Store.DB().Exec(`UPDATE users SET active = FALSE WHERE username = 'mia'`)
			defer e.Store.DB().Exec(`UPDATE users SET active = TRUE WHERE username = 'mia'`)
			r := c.Do("POST", "/api/v1/mfa/verify", map[string]string{"username": "mia", "mfa_code": totp(t, secret, e.Clock.Now())})
			// The pending sign-in died with the account's activity: answered as a
			// missing one, and no session results.
			if r.Status != 400 || r.Detail() != "No pending MFA login found for this username" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	})
}

func TestMFA_Management(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("noor", false)
		c := e.NewClient("web")
		c.MustLogin("noor")
		if r := c.Do("GET", "/api/v1/profile/mfa/status", nil); r.Status != 200 || r.JSON(t)["mfa_enabled"] != false {
			t.Fatalf("status: %d %s", r.Status, r.Body)
		}
		if r := c.Do("POST", "/api/v1/profile/mfa/enable", map[string]string{"mfa_code": "123456"}); r.Status != 400 ||
			r.Detail() != "No MFA setup in progress. Please run setup first." {
			t.Fatalf("enable without setup: %d %s", r.Status, r.Body)
		}
		// Enrolling a factor needs a recent sign-in.
		e.Clock.Advance(11 * time.Minute)
		c.RefreshNow()
		if r := c.Do("POST", "/api/v1/profile/mfa/setup", nil); r.Status != 403 {
			t.Fatalf("setup on a stale session: %d %s", r.Status, r.Body)
		}
		c.Do("POST", "/api/v1/profile/reauth", map[string]string{"password": httpapitest.Password})
		// Setup through one instance, enable through another on the same database.
		r := c.Do("POST", "/api/v1/profile/mfa/setup", nil)
		secret := r.JSON(t)["secret"].(string)
		if r := c.Do("POST", "/api/v1/profile/mfa/enable", map[string]string{"mfa_code": "000000"}); r.Status != 400 || r.Detail() != "Invalid MFA code" {
			t.Fatalf("wrong code at enable: %d %s", r.Status, r.Body)
		}
		second := httpapitest.New(t, b, func(e2 *httpapitest.Env) {})
		second.Clock.Advance(e.Clock.Now().Sub(second.Clock.Now()))
		c2 := second.NewClient("web")
		c2.HTTP.Jar = c.HTTP.Jar // same browser, other instance
		u2, _ := url.Parse(second.URL)
		u1, _ := url.Parse(e.URL)
		c2.HTTP.Jar.SetCookies(u2, c.HTTP.Jar.Cookies(u1))
		r = c2.Do("POST", "/api/v1/profile/mfa/enable", map[string]string{"mfa_code": totp(t, secret, e.Clock.Now())})
		if r.Status != 200 {
			t.Fatalf("enable on the second instance: %d %s", r.Status, r.Body)
		}
		var codes struct {
			BackupCodes []string `json:"backup_codes"`
		}
		jsonUnmarshal(r.Body, &codes)
		if st := c.Do("GET", "/api/v1/profile/mfa/status", nil).JSON(t); st["mfa_enabled"] != true || st["backup_codes_remaining"] != float64(10) {
			t.Fatalf("status after enable: %v", st)
		}
		if r := c.Do("GET", "/api/v1/profile", nil); r.JSON(t)["mfa_enabled"] != true {
			t.Fatalf("profile does not show MFA: %s", r.Body)
		}
		bs := c.Do("GET", "/api/v1/profile/mfa/backup-codes/status", nil).JSON(t)
		if bs["has_codes"] != true || bs["total"] != float64(10) || bs["unused"] != float64(10) || bs["used"] != float64(0) ||
			bs["remaining"] != float64(10) || bs["created_at"] == nil {
			t.Fatalf("backup status: %v", bs)
		}

		// With MFA on, the password alone is no step-up.
		if r := c.Do("POST", "/api/v1/profile/reauth", map[string]string{"password": httpapitest.Password}); r.Status != 403 {
			t.Fatalf("password step-up on an MFA account: %d %s", r.Status, r.Body)
		}
		// Regenerating needs a recent step-up.
		e.Clock.Advance(11 * time.Minute)
		c.RefreshNow()
		if r := c.Do("POST", "/api/v1/profile/mfa/backup-codes", nil); r.Status != 403 {
			t.Fatalf("regenerate without step-up: %d %s", r.Status, r.Body)
		}
		if r := c.Do("POST", "/api/v1/profile/mfa/verify", map[string]string{"mfa_code": totp(t, secret, e.Clock.Now())}); r.Status != 200 {
			t.Fatalf("step-up: %d %s", r.Status, r.Body)
		}
		r = c.Do("POST", "/api/v1/profile/mfa/backup-codes", nil)
		if r.Status != 201 || strings.Contains(string(r.Body), codes.BackupCodes[0]) {
			t.Fatalf("regenerate: %d %s", r.Status, r.Body)
		}

		// Disable with a code signs out every other session.
		other := e.NewClient("mobile")
		e.Clock.Advance(30 * time.Second)
		if _, r := mfaLogin(t, other, "noor", totp(t, secret, e.Clock.Now())); r.Status != 200 {
			t.Fatalf("second device: %d", r.Status)
		}
		e.Clock.Advance(30 * time.Second)
		r = c.Do("POST", "/api/v1/profile/mfa/disable", map[string]string{"mfa_code": totp(t, secret, e.Clock.Now())})
		if r.Status != 200 || r.JSON(t)["message"] != "MFA disabled successfully" || r.JSON(t)["sessions_revoked"] != float64(1) {
			t.Fatalf("disable: %d %s", r.Status, r.Body)
		}
		if r := other.Do("GET", "/api/v1/profile", nil); r.Status != 401 {
			t.Fatalf("other session survived MFA disable: %d", r.Status)
		}
		if r := c.Do("GET", "/api/v1/profile/mfa/status", nil); r.JSON(t)["mfa_enabled"] != false {
			t.Fatalf("still enabled: %s", r.Body)
		}

		// Secrets appear in no log line and no later response.
		for _, leak := range append([]string{secret}, codes.BackupCodes...) {
			if strings.Contains(e.Logs.String(), leak) || strings.Contains(second.Logs.String(), leak) {
				t.Fatalf("log contains a secret %q", leak)
			}
		}
		if r := c.Do("GET", "/api/v1/profile", nil); strings.Contains(string(r.Body), secret) {
			t.Fatal("profile leaks the secret")
		}
	})
}

// Six wrong codes lock sign-in verification and step-up alike.
func TestMFA_Lockout(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("omar", false)
		owner := e.NewClient("web")
		owner.MustLogin("omar")
		secret, _ := enableMFA(t, e, owner)
		wrong := func(i int) *httpapitest.Response {
			if i%2 == 0 {
				return owner.Do("POST", "/api/v1/profile/mfa/verify", map[string]string{"mfa_code": "000000"})
			}
			_, r := mfaLogin(t, e.NewClient("web"), "omar", "000000")
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
		if _, r := mfaLogin(t, e.NewClient("web"), "omar", totp(t, secret, e.Clock.Now())); r.Status != 429 {
			t.Fatalf("right code while locked: %d", r.Status)
		}
		e.Clock.Advance(15 * time.Minute)
		if _, r := mfaLogin(t, e.NewClient("web"), "omar", totp(t, secret, e.Clock.Now())); r.Status != 200 {
			t.Fatalf("after the lock: %d %s", r.Status, r.Body)
		}
	})
}

// Fifty concurrent step-ups with one valid code (TOTP, backup code, backup
// code of the earlier format, each typed several ways): exactly one succeeds.
func TestMFA_ConcurrentReplay(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		for _, kind := range []string{"totp", "backup", "legacy"} {
			u := e.CreateUser("pia_"+kind, false)
			c := e.NewClient("mobile")
			c.MustLogin(u.Username)
			secret, backup := enableMFA(t, e, c)
			e.Clock.Advance(30 * time.Second)
			variants := []string{totp(t, secret, e.Clock.Now())}
			switch kind {
			case "backup":
				variants = []string{backup[4], strings.ToLower(backup[4]), strings.ReplaceAll(backup[4], "-", "")}
			case "legacy":
				h, _ := httpapitest.CheapHasher().Hash(context.Background(), "7K2MQX9TVA")
				if err := e.Store.ReplaceBackupCodes(context.Background(), u.ID, []string{h}, e.Clock.Now()); err != nil {
					t.Fatal(err)
				}
				variants = []string{"7K2MQ-X9TVA", "7k2mqx9tva"}
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok := 0
			for i := 0; i < 50; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := c.Do("POST", "/api/v1/profile/mfa/verify", map[string]string{"mfa_code": variants[i%len(variants)]})
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
				t.Fatalf("%s: %d of 50 concurrent uses of one code succeeded, want exactly 1", kind, ok)
			}
		}
	})
}

// Backup codes in later Endurain's format, over HTTP: XXXX-XXXX, accepted with
// or without the dash and in any case at sign-in and step-up, each once; codes
// of the earlier format (argon2id-hashed) keep working until regenerated; the
// status shape; 201 on regeneration; the regeneration limit.
func TestMFA_BackupCodesFormat(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		u := e.CreateUser("rui", false)
		c := e.NewClient("web")
		c.MustLogin("rui")
		secret, codes := enableMFA(t, e, c)
		shape := regexp.MustCompile(`^[0-9A-Z]{4}-[0-9A-Z]{4}$`)
		for _, code := range codes {
			if !shape.MatchString(code) || strings.ContainsAny(code, "01OI") {
				t.Fatalf("enable returned %q", code)
			}
		}

		// Sign-in (web and mobile) and step-up, with and without the dash, any case.
		if _, r := mfaLogin(t, e.NewClient("web"), "rui", strings.ReplaceAll(codes[0], "-", "")); r.Status != 200 {
			t.Fatalf("code without dash: %d %s", r.Status, r.Body)
		}
		if _, r := mfaLogin(t, e.NewClient("mobile"), "rui", strings.ToLower(codes[1])); r.Status != 200 {
			t.Fatalf("lower-case code: %d %s", r.Status, r.Body)
		}
		if r := c.Do("POST", "/api/v1/profile/mfa/verify", map[string]string{"mfa_code": strings.ToLower(strings.ReplaceAll(codes[2], "-", ""))}); r.Status != 200 {
			t.Fatalf("step-up with a backup code: %d %s", r.Status, r.Body)
		}
		if _, r := mfaLogin(t, e.NewClient("web"), "rui", codes[0]); r.Status != 401 {
			t.Fatalf("used code again: %d %s", r.Status, r.Body)
		}
		bs := c.Do("GET", "/api/v1/profile/mfa/backup-codes/status", nil)
		if m := bs.JSON(t); bs.Status != 200 || m["has_codes"] != true || m["total"] != float64(10) || m["unused"] != float64(7) ||
			m["used"] != float64(3) || m["remaining"] != float64(7) {
			t.Fatalf("status: %d %s", bs.Status, bs.Body)
		} else if _, err := time.Parse(time.RFC3339, m["created_at"].(string)); err != nil {
			t.Fatalf("created_at: %v", err)
		}

		// An account whose codes were issued before the format changed: argon2id
		// hashes of XXXXX-XXXXX codes.
		legacy := []string{"7K2MQ-X9TVA", "HHJ34-0PZ8W"}
		var hashes []string
		for _, code := range legacy {
			norm, _, _ := mfa.NormalizeBackupCode(code)
			h, err := httpapitest.CheapHasher().Hash(context.Background(), norm)
			if err != nil {
				t.Fatal(err)
			}
			hashes = append(hashes, h)
		}
		if err := e.Store.ReplaceBackupCodes(context.Background(), u.ID, hashes, e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, r := mfaLogin(t, e.NewClient("web"), "rui", "7k2mq x9tva"); r.Status != 200 {
			t.Fatalf("legacy code at sign-in: %d %s", r.Status, r.Body)
		}
		if _, r := mfaLogin(t, e.NewClient("web"), "rui", "7K2MQ-X9TVA"); r.Status != 401 {
			t.Fatalf("legacy code reused: %d %s", r.Status, r.Body)
		}
		if r := c.Do("POST", "/api/v1/profile/mfa/verify", map[string]string{"mfa_code": "HHJ34-0PZ8W"}); r.Status != 200 {
			t.Fatalf("legacy code at step-up: %d %s", r.Status, r.Body)
		}

		// Regeneration: 201 with the codes, then at most five an hour.
		for i := 0; i < 5; i++ {
			r := c.Do("POST", "/api/v1/profile/mfa/backup-codes", nil)
			var body struct {
				Codes       []string  `json:"codes"`
				BackupCodes []string  `json:"backup_codes"`
				CreatedAt   time.Time `json:"created_at"`
			}
			jsonUnmarshal(r.Body, &body)
			if r.Status != 201 || len(body.Codes) != 10 || strings.Join(body.Codes, ",") != strings.Join(body.BackupCodes, ",") ||
				!body.CreatedAt.Equal(e.Clock.Now()) || r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("regeneration %d: %d %s", i+1, r.Status, r.Body)
			}
			for _, code := range body.Codes {
				if !shape.MatchString(code) {
					t.Fatalf("regenerated %q", code)
				}
			}
			codes = body.Codes
		}
		r := c.Do("POST", "/api/v1/profile/mfa/backup-codes", nil)
		if r.Status != 429 || r.Header.Get("Retry-After") != "3600" ||
			r.Detail() != "Backup codes can be regenerated 5 times per hour. Please try again in 3600 seconds." {
			t.Fatalf("6th regeneration: %d %s (Retry-After %q)", r.Status, r.Body, r.Header.Get("Retry-After"))
		}
		// The refused call changed nothing: the last codes still work.
		if _, r := mfaLogin(t, e.NewClient("web"), "rui", codes[9]); r.Status != 200 {
			t.Fatalf("code of the last set after a refused regeneration: %d %s", r.Status, r.Body)
		}
		// The limit is per user and in the database: a second instance agrees.
		second := httpapitest.New(t, b)
		second.Clock.Advance(e.Clock.Now().Sub(second.Clock.Now()))
		c2 := second.NewClient("mobile")
		e.Clock.Advance(30 * time.Second)
		second.Clock.Advance(30 * time.Second)
		if _, r := mfaLogin(t, c2, "rui", totp(t, secret, e.Clock.Now())); r.Status != 200 {
			t.Fatalf("sign-in on the second instance: %d %s", r.Status, r.Body)
		}
		if r := c2.Do("POST", "/api/v1/profile/mfa/backup-codes", nil); r.Status != 429 {
			t.Fatalf("regeneration on the second instance: %d %s", r.Status, r.Body)
		}
		// An hour later the window has passed.
		e.Clock.Advance(time.Hour)
		c.RefreshNow()
		if r := c.Do("POST", "/api/v1/profile/mfa/verify", map[string]string{"mfa_code": totp(t, secret, e.Clock.Now())}); r.Status != 200 {
			t.Fatalf("step-up: %d %s", r.Status, r.Body)
		}
		if r := c.Do("POST", "/api/v1/profile/mfa/backup-codes", nil); r.Status != 201 {
			t.Fatalf("an hour later: %d %s", r.Status, r.Body)
		}
	})
}
