package httpapi_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"

	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/testkit"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestLogin(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("ana", false)

		t.Run("L1_Web", func(t *testing.T) {
			c := e.NewClient("web")
			r := c.Login("Ana", httpapitest.Password)
			if r.Status != 200 {
				t.Fatalf("status %d %s", r.Status, r.Body)
			}
			m := r.JSON(t)
			if len(m) != 1 || !uuidRE.MatchString(m["session_id"].(string)) {
				t.Fatalf("body %s, want exactly {session_id}", r.Body)
			}
			cookies := map[string]string{}
			for _, sc := range r.Header.Values("Set-Cookie") {
				cookies[strings.SplitN(sc, "=", 2)[0]] = sc
			}
			for name, httpOnly := range map[string]bool{"endurain_access_token": true, "endurain_refresh_token": true, "endurain_csrf_token": false} {
				sc := cookies[name]
				if sc == "" || !strings.Contains(sc, "Path=/") || !strings.Contains(sc, "SameSite=Lax") || strings.Contains(sc, "HttpOnly") != httpOnly {
					t.Errorf("cookie %s = %q", name, sc)
				}
				if strings.Contains(sc, "Secure") {
					t.Errorf("cookie %s Secure on an http public URL", name)
				}
			}
		})
		t.Run("L2_Mobile", func(t *testing.T) {
			c := e.NewClient("mobile")
			r := c.Login("ana", httpapitest.Password)
			m := r.JSON(t)
			if r.Status != 200 || m["token_type"] != "Bearer" || c.Access == "" || c.Refresh == "" || c.Access == c.Refresh {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			exp, _ := m["expires_in"].(float64)
			if d := time.Unix(int64(exp), 0).Sub(e.Clock.Now()); d < 14*time.Minute || d > 16*time.Minute {
				t.Fatalf("expires_in %v is not the access expiry (Unix time)", exp)
			}
			if len(r.Header.Values("Set-Cookie")) != 0 {
				t.Fatal("mobile login set cookies")
			}
			if got := c.Do("GET", "/api/v1/profile/sessions", nil); got.Status != 200 {
				t.Fatalf("bearer not accepted: %d", got.Status)
			}
		})
		t.Run("L5_InvalidClientType", func(t *testing.T) {
			var before int
			e.Store.DB().QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&before)
			c := e.NewClient("desktop")
			r := c.Login("ana", httpapitest.Password)
			if r.Status != 403 || r.Detail() != "Invalid client type" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			var after int
			e.Store.DB().QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&after)
			if after != before {
				t.Fatal("a session was created for an invalid client type")
			}
		})
		t.Run("L6_SameFailureForUnknownUserAndWrongPassword", func(t *testing.T) {
			c := e.NewClient("web")
			wrong := c.Login("ana", "Wrong!Passw0rd")
			unknown := c.Login("nobody", "Wrong!Passw0rd")
			if wrong.Status != 401 || unknown.Status != 401 || wrong.Detail() != "Invalid username or password" {
				t.Fatalf("wrong %d %s / unknown %d %s", wrong.Status, wrong.Body, unknown.Status, unknown.Body)
			}
			strip := regexp.MustCompile(`"request_id":"[^"]*"`)
			if strip.ReplaceAllString(string(wrong.Body), "") != strip.ReplaceAllString(string(unknown.Body), "") {
				t.Fatalf("bodies differ:\n%s\n%s", wrong.Body, unknown.Body)
			}
		})
		t.Run("L7_Inactive", func(t *testing.T) {
			u := e.CreateUser("sleepy", false)
			e.Store.DB().Exec(`UPDATE users SET active = FALSE WHERE id = $1`, u.ID)
			c := e.NewClient("web")
			wrong := c.Login("sleepy", "Wrong!Passw0rd")
			right := c.Login("sleepy", httpapitest.Password)
			// One answer for both: a different one for the right password would
			// confirm a guessed password (hardening 19.4).
			strip := regexp.MustCompile(`"request_id":"[^"]*"`)
			if wrong.Status != 401 || right.Status != 401 ||
				strip.ReplaceAllString(string(wrong.Body), "") != strip.ReplaceAllString(string(right.Body), "") {
				t.Fatalf("inactive: wrong %d %s / right %d %s", wrong.Status, wrong.Body, right.Status, right.Body)
			}
		})
		t.Run("MissingFields", func(t *testing.T) {
			r := e.NewClient("web").Do("POST", "/api/v1/token", url.Values{"username": {"ana"}})
			if r.Status != 422 || !strings.Contains(string(r.Body), `"password"`) {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	})
}

// Endurain's hashes (argon2-cffi parameters and bcrypt) verify, and are replaced
// by the current parameters after the sign-in.
func TestLogin_UpgradesLegacyHashes(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		for name, hash := range map[string]string{
			"argon": "$argon2id$v=19$m=65536,t=3,p=4$h66Uv+UhX390ijzEFBK2vA$O2xXYwBMg0oqToqIFI/aF57O6PXpBl56xb0IjtnMTt8",
			"bcryp": "$2b$12$x.k7Kew3kRzqDRN9v.4d3ekbY/cNzO40s75VMMCJ0gSnxPRlpa6f.",
		} {
			u := e.CreateUser(name, false)
			e.Store.SetPasswordHash(context.Background(), u.ID, hash)
			if r := e.NewClient("web").Login(name, "Endur4in!Pass"); r.Status != 200 {
				t.Fatalf("%s: %d %s", name, r.Status, r.Body)
			}
			got, _ := e.Store.FindUserByID(context.Background(), u.ID)
			if *got.PasswordHash == hash || !strings.HasPrefix(*got.PasswordHash, "$argon2id$v=19$m=1024,t=1,p=1$") {
				t.Fatalf("%s: hash not upgraded: %s", name, *got.PasswordHash)
			}
			if r := e.NewClient("web").Login(name, "Endur4in!Pass"); r.Status != 200 {
				t.Fatalf("%s: login with the upgraded hash: %d", name, r.Status)
			}
		}
	})
}

func TestRefresh(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("ben", false)

		t.Run("R1_WebRotatesAndKeepsSession", func(t *testing.T) {
			c := e.NewClient("web")
			sid := c.MustLogin("ben")
			oldAccess, oldRefresh, oldCSRF := c.Cookie("endurain_access_token"), c.Cookie("endurain_refresh_token"), c.Cookie("endurain_csrf_token")
			e.Clock.Advance(time.Minute)
			r := c.RefreshNow()
			if r.Status != 200 || r.JSON(t)["session_id"] != sid {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			if c.Cookie("endurain_access_token") == oldAccess || c.Cookie("endurain_refresh_token") == oldRefresh || c.Cookie("endurain_csrf_token") == oldCSRF {
				t.Fatal("cookies not rotated")
			}
		})
		t.Run("R2_Mobile", func(t *testing.T) {
			c := e.NewClient("mobile")
			c.MustLogin("ben")
			oldRefresh := c.Refresh
			r := c.RefreshNow()
			if r.Status != 200 || r.JSON(t)["token_type"] != "bearer" || c.Refresh == oldRefresh {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			if got := c.Do("GET", "/api/v1/profile/sessions", nil); got.Status != 200 {
				t.Fatalf("new access token rejected: %d", got.Status)
			}
		})
		t.Run("R4_ReuseRevokesSession", func(t *testing.T) {
			c := e.NewClient("mobile")
			c.MustLogin("ben")
			stolen := c.Refresh
			c.RefreshNow()
			e.Clock.Advance(time.Minute) // past the concurrency grace
			thief := e.NewClient("mobile")
			thief.Refresh = stolen
			if r := thief.RefreshNow(); r.Status != 401 || r.Detail() != "Invalid refresh token" {
				t.Fatalf("reused token: %d %s", r.Status, r.Body)
			}
			// The whole session is gone: the legitimate tokens stop working too.
			if r := c.Do("GET", "/api/v1/profile/sessions", nil); r.Status != 401 {
				t.Fatalf("session survived a reuse: %d", r.Status)
			}
			if r := c.RefreshNow(); r.Status != 401 {
				t.Fatalf("refresh after reuse: %d", r.Status)
			}
			var n int
			e.Store.DB().QueryRow(`SELECT COUNT(*) FROM security_events WHERE type = 'refresh_token_reuse'`).Scan(&n)
			if n != 1 {
				t.Fatalf("%d reuse events", n)
			}
		})
		t.Run("ConcurrentTabsStaySignedIn", func(t *testing.T) {
			c := e.NewClient("mobile")
			c.MustLogin("ben")
			token := c.Refresh
			var wg sync.WaitGroup
			status := make([]int, 2)
			for i := range status {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tab := e.NewClient("mobile")
					tab.Refresh = token
					status[i] = tab.RefreshNow().Status
				}()
			}
			wg.Wait()
			if status[0] != 200 || status[1] != 200 {
				t.Fatalf("concurrent refreshes: %v", status)
			}
		})
		t.Run("GraceReturnsTheSameSuccessor", func(t *testing.T) {
			c := e.NewClient("mobile")
			sid := c.MustLogin("ben")
			old := c.Refresh
			c.RefreshNow()
			// Within the grace, the token rotated last gives back its successor,
			// not a second chain: every presentation gets the same tokens.
			for i := 0; i < 2; i++ {
				tab := e.NewClient("mobile")
				tab.Refresh = old
				if r := tab.RefreshNow(); r.Status != 200 || tab.Refresh != c.Refresh || tab.Access != c.Access {
					t.Fatalf("re-presentation %d within the grace: %d, same tokens %t", i, r.Status, tab.Refresh == c.Refresh)
				}
			}
			var live int
			e.Store.DB().QueryRow(`SELECT COUNT(*) FROM session_tokens WHERE session_id = $1 AND kind = 'refresh'
				AND superseded_at IS NULL`, sid).Scan(&live)
			if live != 1 {
				t.Fatalf("%d live refresh tokens in the chain", live)
			}
			// Once the successor is used, the old token is two rotations old: reuse.
			if r := c.RefreshNow(); r.Status != 200 {
				t.Fatalf("refresh: %d", r.Status)
			}
			thief := e.NewClient("mobile")
			thief.Refresh = old
			if r := thief.RefreshNow(); r.Status != 401 {
				t.Fatalf("token two rotations old: %d %s", r.Status, r.Body)
			}
			if r := c.Do("GET", "/api/v1/profile/sessions", nil); r.Status != 401 {
				t.Fatalf("session survived a replay: %d", r.Status)
			}
		})
		t.Run("GraceOnlyWhileSuccessorUnused", func(t *testing.T) {
			// A thief within 10 s on the same address, after the owner already
			// used the successor: refused, and the session ends.
			c := e.NewClient("mobile")
			c.MustLogin("ben")
			stolen := c.Refresh
			c.RefreshNow()
			c.RefreshNow()
			thief := e.NewClient("mobile")
			thief.Refresh = stolen
			if r := thief.RefreshNow(); r.Status != 401 {
				t.Fatalf("superseded token with a used successor: %d %s", r.Status, r.Body)
			}
			if r := c.RefreshNow(); r.Status != 401 {
				t.Fatalf("session survived: %d", r.Status)
			}
		})
		t.Run("R6_InvalidClientType", func(t *testing.T) {
			if r := e.NewClient("tv").Do("POST", "/api/v1/refresh", nil); r.Status != 403 || r.Detail() != "Invalid client type" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
		t.Run("SlidingExpiryWithAbsoluteCap", func(t *testing.T) {
			c := e.NewClient("mobile")
			c.MustLogin("ben")
			for i, days := range []int{6, 6, 6, 6, 5} { // day 29: each refresh within 7 days of the last
				e.Clock.Advance(time.Duration(days) * 24 * time.Hour)
				if r := c.RefreshNow(); r.Status != 200 {
					t.Fatalf("refresh %d: %d %s", i, r.Status, r.Body)
				}
			}
			e.Clock.Advance(25 * time.Hour) // now past 30 days since login
			if r := c.RefreshNow(); r.Status != 401 {
				t.Fatalf("refresh past the absolute cap: %d", r.Status)
			}
		})
		t.Run("AccessExpiresAfter15Minutes", func(t *testing.T) {
			c := e.NewClient("mobile")
			c.MustLogin("ben")
			e.Clock.Advance(auth.AccessTTL + time.Second)
			if r := c.Do("GET", "/api/v1/profile/sessions", nil); r.Status != 401 {
				t.Fatalf("expired access token: %d", r.Status)
			}
			if r := c.RefreshNow(); r.Status != 200 {
				t.Fatalf("refresh: %d", r.Status)
			}
			if r := c.Do("GET", "/api/v1/profile/sessions", nil); r.Status != 200 {
				t.Fatalf("after refresh: %d", r.Status)
			}
		})
	})
}

func TestLogout(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("cy", false)
		for _, ct := range []string{"web", "mobile"} {
			t.Run("O1_O3_"+ct, func(t *testing.T) {
				c := e.NewClient(ct)
				c.MustLogin("cy")
				r := c.Do("POST", "/api/v1/logout", nil)
				if r.Status != 200 || r.Detail() != "" || r.JSON(t)["message"] != "Logout successful" {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				if ct == "web" && len(r.Header.Values("Set-Cookie")) != 3 {
					t.Fatalf("cookies not cleared: %v", r.Header.Values("Set-Cookie"))
				}
				if r := c.Do("GET", "/api/v1/profile/sessions", nil); r.Status != 401 {
					t.Fatalf("after logout: %d", r.Status)
				}
				if r := c.Do("POST", "/api/v1/logout", nil); r.Status != 200 {
					t.Fatalf("second logout: %d", r.Status)
				}
			})
		}
		t.Run("WebNeedsCSRF", func(t *testing.T) {
			c := e.NewClient("web")
			c.MustLogin("cy")
			r := c.Do("POST", "/api/v1/logout", nil, "X-CSRF-Token", "")
			if r.Status != 403 || r.Detail() != "CSRF token missing" {
				t.Fatalf("missing: %d %s", r.Status, r.Body)
			}
			r = c.Do("POST", "/api/v1/logout", nil, "X-CSRF-Token", "forged")
			if r.Status != 403 || r.Detail() != "CSRF token invalid" {
				t.Fatalf("forged: %d %s", r.Status, r.Body)
			}
		})
		t.Run("CrossSiteRefused", func(t *testing.T) {
			c := e.NewClient("web")
			c.MustLogin("cy")
			r := c.Do("POST", "/api/v1/logout", nil, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
			if r.Status != 403 {
				t.Fatalf("cross-site unsafe request: %d", r.Status)
			}
		})
	})
}

func TestSessions(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		dana := e.CreateUser("dana", false)
		admin := e.CreateUser("root", true)
		laptop, phone := e.NewClient("web"), e.NewClient("mobile")
		phone.UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
		laptopSID := laptop.MustLogin("dana")
		e.Clock.Advance(time.Second)
		phoneSID := phone.MustLogin("dana")

		r := laptop.Do("GET", "/api/v1/profile/sessions", nil)
		var list []map[string]any
		if err := jsonUnmarshal(r.Body, &list); err != nil || r.Status != 200 || len(list) != 2 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if list[0]["id"] != phoneSID || list[1]["id"] != laptopSID || list[1]["current"] != true || list[0]["current"] != false {
			t.Fatalf("order or current flag wrong: %s", r.Body)
		}
		if list[0]["operating_system"] != "iOS" || list[0]["device_type"] != "Mobile" || list[1]["operating_system"] != "Linux" || list[1]["browser"] != "Chrome" {
			t.Fatalf("device fields: %s", r.Body)
		}
		for _, key := range []string{"ip_address", "created_at", "expires_at", "last_active_at", "auth_method", "operating_system_version", "browser_version"} {
			if _, ok := list[0][key]; !ok {
				t.Errorf("session lacks %s", key)
			}
		}
		if strings.Contains(strings.ToLower(string(r.Body)), "token") || strings.Contains(string(r.Body), phone.Access) {
			t.Fatalf("session list leaks a token: %s", r.Body)
		}

		// Revoking one session cuts it off on the very next request.
		if r := laptop.Do("DELETE", "/api/v1/profile/sessions/"+phoneSID, nil); r.Status != 200 || string(r.Body) != "null\n" {
			t.Fatalf("revoke: %d %q", r.Status, r.Body)
		}
		if r := phone.Do("GET", "/api/v1/profile/sessions", nil); r.Status != 401 {
			t.Fatalf("revoked session still works: %d", r.Status)
		}
		// Another user's session id is 404.
		other := e.NewClient("web")
		otherSID := other.MustLogin("root")
		if r := laptop.Do("DELETE", "/api/v1/profile/sessions/"+otherSID, nil); r.Status != 404 {
			t.Fatalf("foreign session: %d", r.Status)
		}

		// Revoke all others needs a recent sign-in.
		phone2 := e.NewClient("mobile")
		phone2.MustLogin("dana")
		e.Clock.Advance(11 * time.Minute)
		laptop.RefreshNow() // keep the laptop's access token fresh
		if r := laptop.Do("DELETE", "/api/v1/profile/sessions", nil); r.Status != 403 || !strings.Contains(r.Detail(), "Recent authentication required") {
			t.Fatalf("stale revoke-all: %d %s", r.Status, r.Body)
		}
		if r := laptop.Do("POST", "/api/v1/profile/reauth", map[string]string{"password": httpapitest.Password}); r.Status != 200 {
			t.Fatalf("reauth: %d %s", r.Status, r.Body)
		}
		r = laptop.Do("DELETE", "/api/v1/profile/sessions", nil)
		if r.Status != 200 || r.JSON(t)["revoked"] != float64(1) {
			t.Fatalf("revoke-all: %d %s", r.Status, r.Body)
		}
		if r := phone2.Do("GET", "/api/v1/profile/sessions", nil); r.Status != 401 {
			t.Fatalf("other session survived revoke-all: %d", r.Status)
		}

		// S1-S4: admin routes.
		if r := laptop.Do("GET", "/api/v1/sessions/user/"+itoa(admin.ID), nil); r.Status != 403 {
			t.Fatalf("regular user on admin route: %d", r.Status)
		}
		r = other.Do("GET", "/api/v1/sessions/user/"+itoa(dana.ID), nil)
		if err := jsonUnmarshal(r.Body, &list); r.Status != 200 || err != nil || len(list) != 1 || list[0]["id"] != laptopSID {
			t.Fatalf("S1: %d %s", r.Status, r.Body)
		}
		if r := other.Do("GET", "/api/v1/sessions/user/999999", nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != "[]" {
			t.Fatalf("S2: %d %s", r.Status, r.Body)
		}
		// Ending another user's session is an admin write: the admin signed in
		// 11 minutes ago, so it needs a step-up first.
		if r := other.Do("DELETE", "/api/v1/sessions/nope/user/"+itoa(dana.ID), nil); r.Status != 403 || !strings.Contains(r.Detail(), "Recent authentication required") {
			t.Fatalf("stale admin session delete: %d %s", r.Status, r.Body)
		}
		if r := other.Do("POST", "/api/v1/profile/reauth", map[string]string{"password": httpapitest.Password}); r.Status != 200 {
			t.Fatalf("admin reauth: %d %s", r.Status, r.Body)
		}
		if r := other.Do("DELETE", "/api/v1/sessions/nope/user/"+itoa(dana.ID), nil); r.Status != 404 || !strings.Contains(r.Detail(), "not found for user") {
			t.Fatalf("S4: %d %s", r.Status, r.Body)
		}
		if r := other.Do("DELETE", "/api/v1/sessions/"+laptopSID+"/user/"+itoa(dana.ID), nil); r.Status != 200 {
			t.Fatalf("S3: %d %s", r.Status, r.Body)
		}
		if r := laptop.Do("GET", "/api/v1/profile/sessions", nil); r.Status != 401 {
			t.Fatalf("admin-revoked session still works: %d", r.Status)
		}
	})
}

func TestThrottling(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		t.Run("PerAddress", func(t *testing.T) {
			e := httpapitest.New(t, b)
			e.CreateUser("eli", false)
			c := e.NewClient("web")
			for i := 0; i < auth.LoginRate.Requests; i++ {
				// A forged X-Forwarded-For from an untrusted peer must not change the key.
				c.IP = "198.51.100." + itoa(int64(i+1))
				if r := c.Login("eli", httpapitest.Password); r.Status != 200 {
					t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
				}
			}
			r := c.Login("eli", httpapitest.Password)
			if r.Status != 429 || r.Header.Get("Retry-After") == "" || !strings.Contains(r.Detail(), "Too many requests") {
				t.Fatalf("attempt past the limit: %d %s (Retry-After %q)", r.Status, r.Body, r.Header.Get("Retry-After"))
			}
			e.Clock.Advance(61 * time.Second)
			if r := c.Login("eli", httpapitest.Password); r.Status != 200 {
				t.Fatalf("after the window: %d %s", r.Status, r.Body)
			}
		})
		// Failures from many addresses lock the account only briefly.
		t.Run("PerAccountBounded", func(t *testing.T) {
			e := httpapitest.New(t, b, func(e *httpapitest.Env) { e.Server.Config.TrustedProxies = mustPrefixes("127.0.0.0/8", "::1/128") })
			e.CreateUser("gus", false)
			for i := 0; i < auth.PasswordLockout.Threshold; i++ {
				c := e.NewClient("web")
				c.IP = "198.51.100." + itoa(int64(i+1))
				if r := c.Login("gus", "Wrong!Passw0rd"); r.Status != 401 {
					t.Fatalf("failure %d: %d", i+1, r.Status)
				}
			}
			owner := e.NewClient("web")
			owner.IP = "192.0.2.10"
			r := owner.Login("gus", httpapitest.Password)
			if r.Status != 429 || r.Header.Get("Retry-After") != "60" {
				t.Fatalf("locked account: %d %s (Retry-After %q)", r.Status, r.Body, r.Header.Get("Retry-After"))
			}
			e.Clock.Advance(61 * time.Second)
			if r := owner.Login("gus", httpapitest.Password); r.Status != 200 {
				t.Fatalf("after the lock: %d %s", r.Status, r.Body)
			}
		})
	})
}

// A trusted proxy's X-Forwarded-For decides the client address; an untrusted
// peer's does not (tested above: the forged header never changed the key).
func TestClientIP_TrustedProxy(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b, func(e *httpapitest.Env) {
			e.Server.Config.TrustedProxies = mustPrefixes("127.0.0.0/8", "::1/128")
		})
		e.CreateUser("fay", false)
		for i := 0; i < auth.LoginRate.Requests+2; i++ {
			c := e.NewClient("web")
			c.IP = "198.51.100." + itoa(int64(i+1))
			if r := c.Login("fay", httpapitest.Password); r.Status != 200 {
				t.Fatalf("distinct client %d behind a trusted proxy was limited: %d", i, r.Status)
			}
		}
		c := e.NewClient("mobile")
		c.IP = "192.0.2.44"
		c.MustLogin("fay")
		r := c.Do("GET", "/api/v1/profile/sessions", nil)
		if !strings.Contains(string(r.Body), `"ip_address":"192.0.2.44"`) {
			t.Fatalf("session address: %s", r.Body)
		}
	})
}
