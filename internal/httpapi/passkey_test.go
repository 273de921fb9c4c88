package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/passkey"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/testkit"
)

// pkOrigin is the origin the test server's relying party accepts: its URL
// under the name localhost, as a browser would have to use it.
func pkOrigin(e *httpapitest.Env) string {
	return strings.Replace(e.URL, "127.0.0.1", "localhost", 1)
}

// registerPasskey adds a passkey of a to c's account through the API.
func registerPasskey(t *testing.T, c *httpapitest.Client, a *testkit.Authenticator, name string) (*testkit.SoftCredential, map[string]any) {
	t.Helper()
	r := c.Do("POST", "/api/v1/profile/passkeys/register/begin", nil)
	if r.Status != 200 {
		t.Fatalf("register begin: %d %s", r.Status, r.Body)
	}
	cred, sc, err := a.Create(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	r = c.Do("POST", "/api/v1/profile/passkeys/register/finish", map[string]any{"name": name, "credential": json.RawMessage(cred)})
	if r.Status != 201 {
		t.Fatalf("register finish: %d %s", r.Status, r.Body)
	}
	return sc, r.JSON(t)
}

// passkeyAssertion begins a passwordless sign-in and signs it with sc.
func passkeyAssertion(t *testing.T, c *httpapitest.Client, a *testkit.Authenticator, sc *testkit.SoftCredential) []byte {
	t.Helper()
	r := c.Do("POST", "/api/v1/passkeys/login/begin", nil)
	if r.Status != 200 {
		t.Fatalf("login begin: %d %s", r.Status, r.Body)
	}
	as, err := a.Get(r.Body, sc)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func passkeyFinish(c *httpapitest.Client, assertion []byte) *httpapitest.Response {
	r := c.Do("POST", "/api/v1/passkeys/login/finish", map[string]any{"credential": json.RawMessage(assertion)})
	c.KeepTokens(r)
	return r
}

func wantStatus(t *testing.T, what string, r *httpapitest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: got %d %s, want %d", what, r.Status, r.Body, status)
	}
}

func TestPasskeys(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		ctx := context.Background()
		e := httpapitest.New(t, b)
		u := e.CreateUser("pia", false)
		other := e.CreateUser("olaf", false)
		a := testkit.NewAuthenticator(pkOrigin(e))
		owner := e.NewClient("web")
		owner.MustLogin("pia")

		// Registration.
		sc, created := registerPasskey(t, owner, a, "Laptop")
		for _, k := range []string{"credential_id", "public_key", "publicKey"} {
			if _, ok := created[k]; ok {
				t.Fatalf("registration answer shows %s: %v", k, created)
			}
		}
		r := owner.Do("GET", "/api/v1/profile/passkeys", nil)
		wantStatus(t, "list", r, 200)
		var list []map[string]any
		jsonUnmarshal(r.Body, &list)
		if len(list) != 1 || list[0]["name"] != "Laptop" || list[0]["backed_up"] != false || list[0]["last_used_at"] != nil ||
			list[0]["authenticator"] != nil || len(list[0]["transports"].([]any)) != 1 || list[0]["created_at"] == nil {
			t.Fatalf("list: %s", r.Body)
		}
		if len(list[0]) != 7 {
			t.Fatalf("list shows more than the documented fields: %s", r.Body)
		}
		pid := int64(list[0]["id"].(float64))

		// The same authenticator cannot register twice: it is excluded.
		r = owner.Do("POST", "/api/v1/profile/passkeys/register/begin", nil)
		if _, _, err := a.Create(r.Body); err == nil || !strings.Contains(string(r.Body), "excludeCredentials") {
			t.Fatalf("existing passkey not excluded: %s", r.Body)
		}

		// A passkey is a second factor.
		r = owner.Do("GET", "/api/v1/profile/mfa/status", nil)
		if m := r.JSON(t); m["mfa_enabled"] != true || len(m["factors"].([]any)) != 1 || m["factors"].([]any)[0] != "passkey" {
			t.Fatalf("mfa status: %s", r.Body)
		}

		t.Run("PasswordlessWeb", func(t *testing.T) {
			e.Clock.Advance(time.Minute) // a fresh minute of sign-in throttling
			c := e.NewClient("web")
			r := passkeyFinish(c, passkeyAssertion(t, c, a, nil))
			wantStatus(t, "finish", r, 200)
			if c.Cookie("endurain_access_token") == "" || c.Cookie("endurain_refresh_token") == "" || r.JSON(t)["session_id"] == nil {
				t.Fatalf("no web session: %s", r.Body)
			}
			wantStatus(t, "profile", c.Do("GET", "/api/v1/profile", nil), 200)
			if m := sessionMethod(t, e, u.ID, r); m != "passkey" {
				t.Fatalf("session method %q", m)
			}
		})

		t.Run("PasswordlessMobile", func(t *testing.T) {
			e.Clock.Advance(time.Minute) // a fresh minute of sign-in throttling
			c := e.NewClient("mobile")
			r := passkeyFinish(c, passkeyAssertion(t, c, a, nil))
			wantStatus(t, "finish", r, 200)
			m := r.JSON(t)
			if m["access_token"] == nil || m["refresh_token"] == nil || m["token_type"] != "Bearer" {
				t.Fatalf("no tokens: %s", r.Body)
			}
			if me := c.Do("GET", "/api/v1/profile", nil); me.Status != 200 || me.JSON(t)["username"] != "pia" {
				t.Fatalf("profile: %d %s", me.Status, me.Body)
			}
		})

		t.Run("MFAStepMobile", func(t *testing.T) {
			e.Clock.Advance(time.Minute) // a fresh minute of sign-in throttling
			c := e.NewClient("mobile")
			r := c.Login("pia", httpapitest.Password)
			m := r.JSON(t)
			if m["mfa_required"] != true {
				t.Fatalf("password alone signed in an account with a passkey: %s", r.Body)
			}
			ticket := m["mfa_ticket"].(string)
			r = c.Do("POST", "/api/v1/mfa/passkey/begin", map[string]string{"username": "pia", "mfa_ticket": ticket})
			wantStatus(t, "mfa begin", r, 200)
			if !strings.Contains(string(r.Body), "allowCredentials") {
				t.Fatalf("mfa options do not name the passkeys: %s", r.Body)
			}
			as, err := a.Get(r.Body, nil)
			if err != nil {
				t.Fatal(err)
			}
			// A challenge of this sign-in cannot finish another one.
			other := e.NewClient("mobile")
			ticket2 := other.Login("pia", httpapitest.Password).JSON(t)["mfa_ticket"].(string)
			r = other.Do("POST", "/api/v1/mfa/passkey/finish", map[string]any{"username": "pia", "mfa_ticket": ticket2, "credential": json.RawMessage(as)})
			wantStatus(t, "finish with another ticket", r, 401)
			r = c.Do("POST", "/api/v1/mfa/passkey/finish", map[string]any{"username": "pia", "mfa_ticket": ticket, "credential": json.RawMessage(as)})
			wantStatus(t, "mfa finish", r, 200)
			c.KeepTokens(r)
			wantStatus(t, "profile", c.Do("GET", "/api/v1/profile", nil), 200)
			// The ticket is spent.
			r = c.Do("POST", "/api/v1/mfa/passkey/begin", map[string]string{"username": "pia", "mfa_ticket": ticket})
			wantStatus(t, "begin on a spent ticket", r, 400)
			r = c.Do("POST", "/api/v1/mfa/passkey/finish", map[string]any{"username": "pia", "mfa_ticket": ticket2, "credential": json.RawMessage(as)})
			wantStatus(t, "a spent challenge", r, 401)
		})

		t.Run("MFAStepWeb", func(t *testing.T) {
			e.Clock.Advance(time.Minute) // a fresh minute of sign-in throttling
			c := e.NewClient("web")
			wantStatus(t, "password", c.Login("pia", httpapitest.Password), 202)
			r := c.Do("POST", "/api/v1/mfa/passkey/begin", map[string]string{"username": "pia"})
			wantStatus(t, "mfa begin", r, 200)
			as, _ := a.Get(r.Body, nil)
			r = c.Do("POST", "/api/v1/mfa/passkey/finish", map[string]any{"username": "pia", "credential": json.RawMessage(as)})
			wantStatus(t, "mfa finish", r, 200)
			if c.Cookie("endurain_access_token") == "" {
				t.Fatal("no session cookie")
			}
			if m := sessionMethod(t, e, u.ID, r); m != "password+passkey" {
				t.Fatalf("session method %q", m)
			}
		})

		t.Run("RefusesReplay", func(t *testing.T) {
			e.Clock.Advance(time.Minute) // a fresh minute of sign-in throttling
			c := e.NewClient("mobile")
			as := passkeyAssertion(t, c, a, nil)
			wantStatus(t, "first", passkeyFinish(c, as), 200)
			wantStatus(t, "replay", passkeyFinish(e.NewClient("mobile"), as), 401)
		})

		t.Run("RefusesForgedSignature", func(t *testing.T) {
			e.Clock.Advance(time.Minute) // a fresh minute of sign-in throttling
			c := e.NewClient("mobile")
			r := c.Do("POST", "/api/v1/passkeys/login/begin", nil)
			var o struct {
				PublicKey struct {
					Challenge string `json:"challenge"`
					RPID      string `json:"rpId"`
				} `json:"publicKey"`
			}
			jsonUnmarshal(r.Body, &o)
			// The same credential id and user handle, another key.
			_, forger, _ := testkit.NewAuthenticator(pkOrigin(e)).Create(mustJSON(map[string]any{"publicKey": map[string]any{
				"challenge": "AAAA", "rp": map[string]string{"id": o.PublicKey.RPID}, "user": map[string]string{"id": "AAAA"}}}))
			forger.ID, forger.UserHandle = sc.ID, sc.UserHandle
			as := a.Sign(forger, o.PublicKey.RPID, o.PublicKey.Challenge, sc.SignCount+1)
			wantStatus(t, "forged", passkeyFinish(c, as), 401)
		})

		t.Run("RefusesChallengeOfAnotherSession", func(t *testing.T) {
			e.Clock.Advance(time.Minute) // a fresh minute of sign-in throttling
			second := e.NewClient("web")
			wantStatus(t, "second session", passkeyFinish(second, passkeyAssertion(t, second, a, nil)), 200)
			r := owner.Do("POST", "/api/v1/profile/passkeys/register/begin", nil)
			wantStatus(t, "begin", r, 200)
			cred, _, err := testkit.NewAuthenticator(pkOrigin(e)).Create(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			r = second.Do("POST", "/api/v1/profile/passkeys/register/finish", map[string]any{"name": "Stolen", "credential": json.RawMessage(cred)})
			wantStatus(t, "finish in another session", r, 400)
			// And of another user.
			third := e.NewClient("web")
			third.MustLogin("olaf")
			r = third.Do("POST", "/api/v1/profile/passkeys/register/finish", map[string]any{"name": "Stolen", "credential": json.RawMessage(cred)})
			wantStatus(t, "finish by another user", r, 400)
			if n, _ := e.Store.CountPasskeys(ctx, other.ID); n != 0 {
				t.Fatal("another user's ceremony registered a passkey")
			}
		})

		t.Run("RefusesDecreasingCounter", func(t *testing.T) {
			e.Clock.Advance(time.Minute) // a fresh minute of sign-in throttling
			c := e.NewClient("mobile")
			r := c.Do("POST", "/api/v1/passkeys/login/begin", nil)
			var o struct {
				PublicKey struct {
					Challenge string `json:"challenge"`
					RPID      string `json:"rpId"`
				} `json:"publicKey"`
			}
			jsonUnmarshal(r.Body, &o)
			as := a.Sign(sc, o.PublicKey.RPID, o.PublicKey.Challenge, sc.SignCount-1)
			wantStatus(t, "older counter", passkeyFinish(c, as), 401)
			if !strings.Contains(e.Logs.String(), "signature counter did not advance") {
				t.Fatal("the refused counter was not logged")
			}
			evs, _ := e.Store.ListSecurityEvents(ctx, u.ID, 50)
			found := false
			for _, ev := range evs {
				found = found || ev.Type == account.EventPasskeyCounter
			}
			if !found {
				t.Fatal("no security event for the refused counter")
			}
			// The authenticator's next honest use still works.
			c2 := e.NewClient("mobile")
			wantStatus(t, "next", passkeyFinish(c2, passkeyAssertion(t, c2, a, nil)), 200)
		})

		t.Run("StepUpAndManage", func(t *testing.T) {
			e.Clock.Advance(time.Minute) // a fresh minute of sign-in throttling
			e.Clock.Advance(11 * time.Minute)
			wantStatus(t, "refresh", owner.RefreshNow(), 200)
			r := owner.Do("POST", "/api/v1/profile/passkeys/register/begin", nil)
			wantStatus(t, "register without recent auth", r, 403)
			if !strings.Contains(r.Detail(), "passkey") {
				t.Fatalf("step-up hint: %s", r.Body)
			}
			r = owner.Do("POST", "/api/v1/profile/passkeys/reauth/begin", nil)
			wantStatus(t, "reauth begin", r, 200)
			as, _ := a.Get(r.Body, nil)
			r = owner.Do("POST", "/api/v1/profile/passkeys/reauth/finish", map[string]any{"credential": json.RawMessage(as)})
			wantStatus(t, "reauth finish", r, 200)
			second, _ := registerPasskey(t, owner, testkit.NewAuthenticator(pkOrigin(e)), "Phone")

			wantStatus(t, "rename", owner.Do("PUT", "/api/v1/profile/passkeys/"+itoa(pid), map[string]string{"name": "Work laptop"}), 200)
			wantStatus(t, "empty name", owner.Do("PUT", "/api/v1/profile/passkeys/"+itoa(pid), map[string]string{"name": " "}), 422)
			oc := e.NewClient("web")
			oc.MustLogin("olaf")
			wantStatus(t, "rename another's", oc.Do("PUT", "/api/v1/profile/passkeys/"+itoa(pid), map[string]string{"name": "x"}), 404)
			wantStatus(t, "delete another's", oc.Do("DELETE", "/api/v1/profile/passkeys/"+itoa(pid), nil), 404)

			// Without a password, the last passkey is the last way in.
			if _, err := e.Store.DB().ExecContext(ctx, `UPDATE users SET password = NULL WHERE id = $1`, u.ID); err != nil {
				t.Fatal(err)
			}
			r = owner.Do("GET", "/api/v1/profile/passkeys", nil)
			jsonUnmarshal(r.Body, &list)
			if len(list) != 2 || list[0]["name"] != "Work laptop" {
				t.Fatalf("list: %s", r.Body)
			}
			secondID := itoa(int64(list[1]["id"].(float64)))
			wantStatus(t, "delete one of two", owner.Do("DELETE", "/api/v1/profile/passkeys/"+secondID, nil), 204)
			r = owner.Do("DELETE", "/api/v1/profile/passkeys/"+itoa(pid), nil)
			wantStatus(t, "delete the last way in", r, 400)
			if r.Detail() != passkey.LastMethodMessage {
				t.Fatalf("detail: %s", r.Body)
			}
			// A deleted passkey signs nobody in.
			c := e.NewClient("mobile")
			r = c.Do("POST", "/api/v1/passkeys/login/begin", nil)
			var o struct {
				PublicKey struct {
					Challenge string `json:"challenge"`
					RPID      string `json:"rpId"`
				} `json:"publicKey"`
			}
			jsonUnmarshal(r.Body, &o)
			second.SignCount++
			wantStatus(t, "deleted credential", passkeyFinish(c, a.Sign(second, o.PublicKey.RPID, o.PublicKey.Challenge, second.SignCount)), 401)
		})

		t.Run("WithoutUserVerificationOneFactor", func(t *testing.T) {
			e.Clock.Advance(time.Minute) // a fresh minute of sign-in throttling
			// A passkey used without user verification is possession only: an
			// account with MFA gets the MFA step, as after a password.
			a.UserVerified = false
			defer func() { a.UserVerified = true }()
			c := e.NewClient("mobile")
			r := passkeyFinish(c, passkeyAssertion(t, c, a, nil))
			wantStatus(t, "finish", r, 200)
			m := r.JSON(t)
			if m["mfa_required"] != true || m["mfa_ticket"] == nil || m["access_token"] != nil {
				t.Fatalf("a passkey without user verification signed in alone: %s", r.Body)
			}
		})

		t.Run("InactiveUser", func(t *testing.T) {
			e.Clock.Advance(time.Minute) // a fresh minute of sign-in throttling
			if _, err := e.Store.DB().ExecContext(ctx, `UPDATE users SET active = FALSE WHERE id = $1`, u.ID); err != nil {
				t.Fatal(err)
			}
			defer e.Store.DB().ExecContext(ctx, `UPDATE users SET active = TRUE WHERE id = $1`, u.ID)
			c := e.NewClient("mobile")
			wantStatus(t, "inactive", passkeyFinish(c, passkeyAssertion(t, c, a, nil)), 401)
		})

		t.Run("BadInput", func(t *testing.T) {
			e.Clock.Advance(time.Minute) // a fresh minute of sign-in throttling
			c := e.NewClient("mobile")
			wantStatus(t, "no credential", c.Do("POST", "/api/v1/passkeys/login/finish", map[string]any{}), 422)
			wantStatus(t, "garbage", c.Do("POST", "/api/v1/passkeys/login/finish", map[string]any{"credential": map[string]string{"id": "x"}}), 422)
			wantStatus(t, "not json", c.Do("POST", "/api/v1/passkeys/login/finish", "{"), 422)
			wantStatus(t, "no username", c.Do("POST", "/api/v1/mfa/passkey/begin", map[string]string{}), 422)
			wantStatus(t, "no ticket", c.Do("POST", "/api/v1/mfa/passkey/begin", map[string]string{"username": "nobody", "mfa_ticket": "x"}), 400)
			wantStatus(t, "register unauthenticated", c.Do("POST", "/api/v1/profile/passkeys/register/begin", nil), 401)
		})
	})
}

// TestPasskeys_TwoInstances begins a sign-in on one server and finishes it
// on another over the same database, then finds the challenge spent on both.
func TestPasskeys_TwoInstances(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e1 := httpapitest.New(t, b)
		origin := pkOrigin(e1)
		e2 := httpapitest.New(t, b, func(e *httpapitest.Env) {
			// Both instances serve one site behind one name.
			pk, err := passkey.New(passkey.ConfigFor(nil, "localhost", []string{origin}))
			if err != nil {
				t.Fatal(err)
			}
			pk.Store, pk.Users, pk.Auth, pk.Throttle, pk.Events, pk.Now = e.Passkeys.Store, e.Passkeys.Users, e.Auth, e.Passkeys.Throttle, e.Passkeys.Events, e.Clock.Now
			e.Passkeys, e.Server.Passkeys = pk, pk
		})
		e1.CreateUser("ines", false)
		a := testkit.NewAuthenticator(origin)
		c := e1.NewClient("web")
		c.MustLogin("ines")
		registerPasskey(t, c, a, "Key")

		on1 := e1.NewClient("mobile")
		as := passkeyAssertion(t, on1, a, nil)
		on2 := e2.NewClient("mobile")
		r := passkeyFinish(on2, as)
		wantStatus(t, "finish on the other instance", r, 200)
		wantStatus(t, "profile on instance 2", on2.Do("GET", "/api/v1/profile", nil), 200)
		wantStatus(t, "the same challenge on instance 1", passkeyFinish(on1, as), 401)
	})
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// sessionMethod is the recorded method of the session a sign-in answered with.
func sessionMethod(t *testing.T, e *httpapitest.Env, userID int64, r *httpapitest.Response) string {
	t.Helper()
	id, _ := r.JSON(t)["session_id"].(string)
	sessions, err := e.Store.ListSessions(context.Background(), userID, e.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		if s.ID == id {
			return s.AuthMethod
		}
	}
	t.Fatalf("session %q not found", id)
	return ""
}

// TestPasskeys_Export: an account's archive holds no passkey material, says
// how many passkeys it left out, and importing it says to register them again.
func TestPasskeys_Export(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		u := e.CreateUser("xavi", false)
		c := e.NewClient("web")
		c.MustLogin("xavi")
		sc, _ := registerPasskey(t, c, testkit.NewAuthenticator(pkOrigin(e)), "Key")
		stored, err := e.Store.ListPasskeys(context.Background(), u.ID)
		if err != nil || len(stored) != 1 {
			t.Fatal(stored, err)
		}
		r := c.Do("GET", "/api/v1/profile/export", nil)
		wantStatus(t, "export", r, 200)
		m, err := portability.Verify(bytes.NewReader(r.Body), int64(len(r.Body)))
		if err != nil {
			t.Fatal(err)
		}
		if m.NotExported["passkeys"] != 1 || len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "passkey") {
			t.Fatalf("manifest does not report the passkey: %+v %v", m.NotExported, m.Warnings)
		}
		zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
		if err != nil {
			t.Fatal(err)
		}
		var all []byte
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(rc)
			rc.Close()
			all = append(all, data...)
		}
		for _, secretBytes := range [][]byte{sc.ID, stored[0].PublicKey, stored[0].CredentialID} {
			for _, form := range []string{string(secretBytes), base64.StdEncoding.EncodeToString(secretBytes),
				base64.RawURLEncoding.EncodeToString(secretBytes), base64.RawStdEncoding.EncodeToString(secretBytes), hex.EncodeToString(secretBytes)} {
				if bytes.Contains(all, []byte(form)) {
					t.Fatalf("the export contains passkey material (%.20q…)", form)
				}
			}
		}
		e.CreateUser("yara", false)
		y := e.NewClient("web")
		y.MustLogin("yara")
		imp := uploadArchive(t, y, "/api/v1/profile/import?dry_run=true", r.Body)
		wantStatus(t, "import", imp, 200)
		if !strings.Contains(string(imp.Body), "register them again") {
			t.Fatalf("import does not say to register the passkeys again: %s", imp.Body)
		}
	})
}

// TestPasskeys_AdminReset: an admin's MFA reset removes passkeys too, so a
// user who lost the device signs in with the password again.
func TestPasskeys_AdminReset(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		u := e.CreateUser("lena", false)
		e.CreateUser("root", true)
		c := e.NewClient("web")
		c.MustLogin("lena")
		registerPasskey(t, c, testkit.NewAuthenticator(pkOrigin(e)), "Lost phone")
		if r := e.NewClient("mobile").Login("lena", httpapitest.Password); r.JSON(t)["mfa_required"] != true {
			t.Fatalf("password alone: %s", r.Body)
		}
		admin := e.NewClient("web")
		admin.MustLogin("root")
		wantStatus(t, "reset", admin.Do("POST", "/api/v1/users/"+itoa(u.ID)+"/mfa/reset", nil), 200)
		if n, _ := e.Store.CountPasskeys(context.Background(), u.ID); n != 0 {
			t.Fatalf("%d passkeys left after the reset", n)
		}
		wantStatus(t, "password after reset", e.NewClient("mobile").Login("lena", httpapitest.Password), 200)
	})
}

// TestPasskeys_SSO: an SSO-only account whose second factor is a passkey
// stops at the MFA page after the provider and finishes there with the
// passkey; and the passkey counts as a way to sign in, so the provider can
// then be unlinked.
func TestPasskeys_SSO(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		op := testkit.StartOIDC(t)
		e.CreateUser("root", true)
		admin := e.NewClient("web")
		admin.MustLogin("root")
		r := admin.Do("POST", "/api/v1/idp", map[string]any{"name": "Mock", "slug": "mock", "provider_type": "oidc", "enabled": true,
			"client_id": op.ClientID(), "client_secret": op.ClientSecret(), "issuer_url": op.Issuer(), "scopes": "openid profile email",
			"auto_create_users": true})
		wantStatus(t, "create provider", r, 201)
		idpID := itoa(int64(r.JSON(t)["id"].(float64)))

		op.QueueUser("sub-sam", "sam", "sam@idp.example", true)
		c := e.NewClient("web")
		if dest := ssoFlow(t, op, c, "/api/v1/public/idp/login/mock"); dest.Query().Get("sso") != "success" {
			t.Fatalf("first SSO: %s", dest)
		}
		a := testkit.NewAuthenticator(pkOrigin(e))
		registerPasskey(t, c, a, "Key")

		op.QueueUser("sub-sam", "sam", "sam@idp.example", true)
		c2 := e.NewClient("web")
		dest := ssoFlow(t, op, c2, "/api/v1/public/idp/login/mock")
		if dest.Path != "/trailpass/mfa" || c2.Cookie("endurain_access_token") != "" {
			t.Fatalf("an account with a passkey signed in by SSO alone: %s", dest)
		}
		r = c2.Do("POST", "/api/v1/mfa/passkey/begin", map[string]string{"username": "sam"})
		wantStatus(t, "begin", r, 200)
		as, err := a.Get(r.Body, nil)
		if err != nil {
			t.Fatal(err)
		}
		r = c2.Do("POST", "/api/v1/mfa/passkey/finish", map[string]any{"username": "sam", "credential": json.RawMessage(as)})
		wantStatus(t, "finish", r, 200)
		sam, _ := e.Store.FindUserByUsername(context.Background(), "sam")
		if m := sessionMethod(t, e, sam.ID, r); m != "sso+passkey" {
			t.Fatalf("session method %q", m)
		}
		wantStatus(t, "unlink with a passkey left", c2.Do("DELETE", "/api/v1/profile/idp/"+idpID, nil), 204)
		// Now the passkey is the only way in.
		list := c2.Do("GET", "/api/v1/profile/passkeys", nil)
		var keys []map[string]any
		jsonUnmarshal(list.Body, &keys)
		r = c2.Do("DELETE", "/api/v1/profile/passkeys/"+itoa(int64(keys[0]["id"].(float64))), nil)
		wantStatus(t, "delete the only way in", r, 400)
	})
}
