package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/httpapi"
	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/idp"
	"github.com/trailpass/trailpass/internal/testkit"
)

// recentAuthRoutes classifies every route: does it need a recent
// authentication (a sign-in or step-up within the window)? A route missing
// here fails TestRecentAuth_EveryRouteClassified, so a new route must be
// decided on. The rule itself lives in the services; this table is what the
// tests below hold them to over HTTP.
var recentAuthRoutes = map[string]bool{
	"GET /healthz":          false,
	"GET /readyz":           false,
	"GET /metrics":          false,
	"GET /api/openapi.json": false,

	// Sign-in and sessions.
	"POST /api/v1/token":      false,
	"POST /api/v1/mfa/verify": false,
	"POST /api/v1/refresh":    false,
	"POST /api/v1/logout":     false,
	// The step-up itself.
	"POST /api/v1/profile/reauth":  false,
	"GET /api/v1/profile/sessions": false,
	// A stolen session must not sign the owner out everywhere.
	"DELETE /api/v1/profile/sessions": true,
	// Ending one of one's own sessions is a defence.
	"DELETE /api/v1/profile/sessions/{session_id}":        false,
	"GET /api/v1/sessions/user/{user_id}":                 false,
	"DELETE /api/v1/sessions/{session_id}/user/{user_id}": true,

	// Profile.
	"GET /api/v1/profile": false,
	// Only when the username or email changes (see TestRecentAuth_ProfileIdentity).
	"PUT /api/v1/profile":                            true,
	"PUT /api/v1/profile/privacy":                    false,
	"PUT /api/v1/profile/password":                   true,
	"POST /api/v1/profile/image":                     false,
	"PUT /api/v1/profile/photo":                      false,
	"GET /user_images/{file}":                        false,
	"GET /api/v1/profile/default_gear":               false,
	"PUT /api/v1/profile/default_gear":               false,
	"GET /api/v1/profile/goals":                      false,
	"GET /api/v1/profile/goals/results":              false,
	"POST /api/v1/profile/goals":                     false,
	"PUT /api/v1/profile/goals/{goal_id}":            false,
	"DELETE /api/v1/profile/goals/{goal_id}":         false,
	"GET /api/v1/gears":                              false,
	"PUT /api/v1/activities/visibility/{visibility}": false,
	"GET /api/v1/users/{a}/{b}":                      false,
	"GET /api/v1/public/server_settings":             false,
	"GET /api/v1/profile/export":                     false,
	"POST /api/v1/profile/import":                    false,
	"GET /api/v1/profile/import/jobs/{id}":           false,
	"GET /api/v1/profile/import/jobs/{id}/events":    false,
	"GET /api/v1/profile/mfa/status":                 false,
	"GET /api/v1/profile/security-events":            false,
	"GET /api/v1/profile/summary":                    false,
	"GET /api/v1/users/search":                       false,
	"POST /api/v1/profile/mfa/setup":                 true,
	"POST /api/v1/profile/mfa/enable":                true,
	// The code the request must carry is itself an authentication at the
	// account's highest level (see TestRecentAuth_MFAPasswordRule).
	"POST /api/v1/profile/mfa/disable":            false,
	"POST /api/v1/profile/mfa/verify":             false,
	"GET /api/v1/profile/mfa/backup-codes/status": false,
	"POST /api/v1/profile/mfa/backup-codes":       true,

	// Identity providers.
	"GET /api/v1/public/idp":                                     false,
	"GET /api/v1/public/idp/login/{slug}":                        false,
	"GET /api/v1/public/idp/callback/{slug}":                     false,
	"GET /api/v1/profile/idp":                                    false,
	"GET /api/v1/profile/idp/{idp_id}/link":                      true,
	"DELETE /api/v1/profile/idp/{idp_id}":                        true,
	"GET /api/v1/idp":                                            false,
	"GET /api/v1/idp/templates":                                  false,
	"POST /api/v1/idp":                                           true,
	"PUT /api/v1/idp/{idp_id}":                                   true,
	"DELETE /api/v1/idp/{idp_id}":                                true,
	"DELETE /api/v1/users/{user_id}/identity-providers/{idp_id}": true,

	"GET /api/v1/notifications/number":                                              false,
	"GET /api/v1/notifications/page_number/{page_number}/num_records/{num_records}": false,
	"PUT /api/v1/notifications/{notification_id}/mark_as_read":                      false,

	// User administration: every write.
	"GET /api/v1/users/number": false,
	"GET /api/v1/users/page_number/{page_number}/num_records/{num_records}": false,
	"GET /api/v1/users/id/{user_id}":                                        false,
	"POST /api/v1/users":                                                    true,
	"PUT /api/v1/users/{user_id}":                                           true,
	"PUT /api/v1/users/{user_id}/password":                                  true,
	"POST /api/v1/users/{user_id}/mfa/reset":                                true,
	"GET /api/v1/users/username/contains/{username}":                        false,
	"PUT /api/v1/users/{user_id}/approve":                                   true,
	"DELETE /api/v1/users/{user_id}":                                        true,
	"DELETE /api/v1/users/{user_id}/photo":                                  true,
	"POST /api/v1/users/{user_id}/image":                                    true,

	// Passkeys: adding or removing a factor, like TOTP; the ceremonies that
	// sign in, finish an MFA step or step up are themselves authentications.
	"GET /api/v1/profile/passkeys":                 false,
	"POST /api/v1/profile/passkeys/register/begin": true,
	// Finishes only a ceremony this session began under the rule.
	"POST /api/v1/profile/passkeys/register/finish": false,
	"POST /api/v1/profile/passkeys/reauth/begin":    false,
	"POST /api/v1/profile/passkeys/reauth/finish":   false,
	"PUT /api/v1/profile/passkeys/{id}":             false,
	"DELETE /api/v1/profile/passkeys/{id}":          true,
	"POST /api/v1/passkeys/login/begin":             false,
	"POST /api/v1/passkeys/login/finish":            false,
	"POST /api/v1/mfa/passkey/begin":                false,
	"POST /api/v1/mfa/passkey/finish":               false,

	// Password reset and sign-up: unauthenticated, the mailed token is the proof.
	"POST /api/v1/password-reset/request": false,
	"POST /api/v1/password-reset/confirm": false,
	"POST /api/v1/sign-up/request":        false,
	"POST /api/v1/sign-up/confirm":        false,
	// Only the new-device notice can be turned off, and turning it off needs a
	// recent authentication (a stolen session must not silence it); turning
	// it on does not (TestRecentAuth_NoticeOnlyToTurnOff).
	"GET /api/v1/profile/notices": false,
	"PUT /api/v1/profile/notices": true,

	// Server settings: every write.
	"GET /api/v1/server_settings":                 false,
	"PUT /api/v1/server_settings":                 true,
	"POST /api/v1/server_settings/upload/login":   true,
	"DELETE /api/v1/server_settings/upload/login": true,
	"GET /server_images/{file}":                   false,
}

func TestRecentAuth_EveryRouteClassified(t *testing.T) {
	s := &httpapi.Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s.Handler()
	served := map[string]bool{}
	for _, p := range s.RegisteredPatterns() {
		if !strings.Contains(p, " ") { // method-less catch-alls serve nothing
			continue
		}
		served[p] = true
		if _, ok := recentAuthRoutes[p]; !ok {
			t.Errorf("route %q is not classified in recentAuthRoutes: does it need recent authentication?", p)
		}
	}
	for p := range recentAuthRoutes {
		if !served[p] {
			t.Errorf("recentAuthRoutes classifies %q, which is not served", p)
		}
	}
}

const recentAuthMsg = "Recent authentication required"

// goStale ages c's authentication past the recent-auth window, keeping its
// tokens alive with a refresh.
func goStale(t *testing.T, e *httpapitest.Env, c *httpapitest.Client) {
	t.Helper()
	e.Clock.Advance(auth.DefaultRecentAuthWindow + time.Minute)
	if r := c.RefreshNow(); r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
}

// staleThen ages c's authentication past the window (goStale), sends req
// and wants the step-up refusal; then it steps up with the password, sends
// req again and wants anything but that refusal (and no 500).
func staleThen(t *testing.T, e *httpapitest.Env, c *httpapitest.Client, name string, req func() *httpapitest.Response, afterStale func()) *httpapitest.Response {
	t.Helper()
	goStale(t, e, c)
	r := req()
	refused := r.Status == 403 && strings.HasPrefix(r.Detail(), recentAuthMsg)
	if r.Status == 307 { // a navigation is sent back to the settings page instead
		loc, _ := url.Parse(r.Header.Get("Location"))
		refused = loc != nil && loc.Query().Get("reauth_required") == "true" && strings.HasPrefix(loc.Query().Get("detail"), recentAuthMsg)
	}
	if !refused {
		t.Errorf("%s on a stale session: %d %s %s, want the step-up refusal", name, r.Status, r.Header.Get("Location"), r.Body)
	}
	if afterStale != nil {
		afterStale()
	}
	if r := c.Do("POST", "/api/v1/profile/reauth", map[string]string{"password": httpapitest.Password}); r.Status != 200 {
		t.Fatalf("%s: step-up: %d %s", name, r.Status, r.Body)
	}
	r = req()
	if (r.Status == 403 && strings.HasPrefix(r.Detail(), recentAuthMsg)) || r.Status >= 500 ||
		strings.Contains(r.Header.Get("Location"), "reauth_required") {
		t.Errorf("%s after a step-up: %d %s %s", name, r.Status, r.Header.Get("Location"), r.Body)
	}
	return r
}

// Every route classified as needing recent authentication refuses a session
// authenticated longer ago than the window and serves it after a step-up, on
// both databases. Among them, the confirmed gap: an admin session older than
// the window could reset another user's password and promote an account.
func TestRecentAuth_Enforced(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		ctx := context.Background()
		e := httpapitest.New(t, b)
		op := testkit.StartOIDC(t)
		e.CreateUser("boss", true)
		ann := e.CreateUser("ann", false) // the target of the admin writes
		e.CreateUser("pat", false)        // the self-service user
		doomed := e.CreateUser("doomed", false)
		prov, err := e.IdP.Create(ctx, account.Operator(), idp.ProviderInput{Name: "Mock", Slug: "mock", Enabled: true,
			ClientID: op.ClientID(), ClientSecret: op.ClientSecret(), IssuerURL: op.Issuer(), Scopes: "openid profile email"})
		if err != nil {
			t.Fatal(err)
		}
		spare, err := e.IdP.Create(ctx, account.Operator(), idp.ProviderInput{Name: "Spare", Slug: "spare",
			ClientID: "c", ClientSecret: "s", IssuerURL: op.Issuer()})
		if err != nil {
			t.Fatal(err)
		}
		pid, sid, annID := itoa(prov.ID), itoa(spare.ID), itoa(ann.ID)
		annClient := e.NewClient("web")
		annSID := annClient.MustLogin("ann")
		admin := e.NewClient("web")
		admin.MustLogin("boss")
		user := e.NewClient("web")
		user.MustLogin("pat")
		png := pngBytes(t, 4, 4)
		annIsRegular := func() {
			if r := admin.Do("GET", "/api/v1/users/id/"+annID, nil); r.JSON(t)["access_type"] != float64(account.AccessRegular) {
				t.Errorf("a stale admin session promoted ann: %s", r.Body)
			}
		}
		annSignedIn := func() {
			annClient.RefreshNow() // the clock moved on; a deleted session would not refresh
			if r := annClient.Do("GET", "/api/v1/profile", nil); r.Status != 200 {
				t.Errorf("a stale admin write ended ann's session: %d", r.Status)
			}
		}

		type call struct {
			pattern    string
			c          *httpapitest.Client
			method     string
			path       string
			body       any
			upload     bool
			afterStale func()
		}
		calls := []call{
			// Self-service.
			{pattern: "PUT /api/v1/profile/password", c: user, method: "PUT", path: "/api/v1/profile/password",
				body: map[string]any{"password": httpapitest.Password}},
			{pattern: "PUT /api/v1/profile", c: user, method: "PUT", path: "/api/v1/profile",
				body: map[string]any{"email": "pat.new@example.com"}},
			{pattern: "DELETE /api/v1/profile/sessions", c: user, method: "DELETE", path: "/api/v1/profile/sessions"},
			{pattern: "POST /api/v1/profile/mfa/setup", c: user, method: "POST", path: "/api/v1/profile/mfa/setup"},
			{pattern: "POST /api/v1/profile/mfa/enable", c: user, method: "POST", path: "/api/v1/profile/mfa/enable",
				body: map[string]string{"mfa_code": "000000"}},
			{pattern: "POST /api/v1/profile/mfa/backup-codes", c: user, method: "POST", path: "/api/v1/profile/mfa/backup-codes"},
			{pattern: "GET /api/v1/profile/idp/{idp_id}/link", c: user, method: "GET", path: "/api/v1/profile/idp/" + pid + "/link"},
			{pattern: "DELETE /api/v1/profile/idp/{idp_id}", c: user, method: "DELETE", path: "/api/v1/profile/idp/" + pid},
			{pattern: "POST /api/v1/profile/passkeys/register/begin", c: user, method: "POST", path: "/api/v1/profile/passkeys/register/begin"},
			{pattern: "DELETE /api/v1/profile/passkeys/{id}", c: user, method: "DELETE", path: "/api/v1/profile/passkeys/999999"},
			{pattern: "PUT /api/v1/profile/notices", c: user, method: "PUT", path: "/api/v1/profile/notices",
				body: map[string]bool{"new_sign_in": false}},
			// Admin writes.
			{pattern: "POST /api/v1/users", c: admin, method: "POST", path: "/api/v1/users",
				body: map[string]any{"username": "newbie", "email": "newbie@example.com", "name": "New", "password": httpapitest.Password, "access_type": 2}},
			{pattern: "PUT /api/v1/users/{user_id}", c: admin, method: "PUT", path: "/api/v1/users/" + annID,
				body: map[string]any{"access_type": account.AccessAdmin}, afterStale: annIsRegular},
			{pattern: "DELETE /api/v1/sessions/{session_id}/user/{user_id}", c: admin, method: "DELETE",
				path: "/api/v1/sessions/" + annSID + "/user/" + annID, afterStale: annSignedIn},
			{pattern: "PUT /api/v1/users/{user_id}/password", c: admin, method: "PUT", path: "/api/v1/users/" + annID + "/password",
				body: map[string]any{"password": "Taken!Over9pass"}, afterStale: func() {
					if r := e.NewClient("mobile").Login("ann", "Taken!Over9pass"); r.Status != 401 {
						t.Errorf("a stale admin session reset ann's password: %d", r.Status)
					}
				}},
			{pattern: "POST /api/v1/users/{user_id}/mfa/reset", c: admin, method: "POST", path: "/api/v1/users/" + annID + "/mfa/reset"},
			{pattern: "PUT /api/v1/users/{user_id}/approve", c: admin, method: "PUT", path: "/api/v1/users/" + annID + "/approve"},
			{pattern: "POST /api/v1/users/{user_id}/image", c: admin, method: "POST", path: "/api/v1/users/" + annID + "/image", upload: true},
			{pattern: "DELETE /api/v1/users/{user_id}/photo", c: admin, method: "DELETE", path: "/api/v1/users/" + annID + "/photo"},
			{pattern: "DELETE /api/v1/users/{user_id}/identity-providers/{idp_id}", c: admin, method: "DELETE",
				path: "/api/v1/users/" + annID + "/identity-providers/" + pid},
			{pattern: "DELETE /api/v1/users/{user_id}", c: admin, method: "DELETE", path: "/api/v1/users/" + itoa(doomed.ID)},
			{pattern: "POST /api/v1/idp", c: admin, method: "POST", path: "/api/v1/idp",
				body: map[string]any{"name": "Other", "slug": "other", "provider_type": "oidc", "client_id": op.ClientID(),
					"client_secret": op.ClientSecret(), "issuer_url": op.Issuer()}},
			{pattern: "PUT /api/v1/idp/{idp_id}", c: admin, method: "PUT", path: "/api/v1/idp/" + pid, body: map[string]any{"name": "Renamed"}},
			{pattern: "DELETE /api/v1/idp/{idp_id}", c: admin, method: "DELETE", path: "/api/v1/idp/" + sid},
			{pattern: "PUT /api/v1/server_settings", c: admin, method: "PUT", path: "/api/v1/server_settings", body: map[string]any{"units": 2}},
			{pattern: "POST /api/v1/server_settings/upload/login", c: admin, method: "POST", path: "/api/v1/server_settings/upload/login", upload: true},
			{pattern: "DELETE /api/v1/server_settings/upload/login", c: admin, method: "DELETE", path: "/api/v1/server_settings/upload/login"},
		}
		covered := map[string]bool{}
		for _, k := range calls {
			if !recentAuthRoutes[k.pattern] {
				t.Fatalf("%s is exercised here but not classified as needing recent authentication", k.pattern)
			}
			covered[k.pattern] = true
			staleThen(t, e, k.c, k.pattern, func() *httpapitest.Response {
				if k.upload {
					return k.c.Upload(k.path, "file", "p.png", png)
				}
				return k.c.Do(k.method, k.path, k.body, "X-Client-Type", k.c.CT)
			}, k.afterStale)
		}
		for p, need := range recentAuthRoutes {
			if need && !covered[p] {
				t.Errorf("%s needs recent authentication but no request here checks it", p)
			}
		}
		// The fresh requests did their work.
		if r := admin.Do("GET", "/api/v1/users/id/"+annID, nil); r.JSON(t)["access_type"] != float64(account.AccessAdmin) {
			t.Errorf("promotion after a step-up did not apply: %s", r.Body)
		}
		if r := e.NewClient("mobile").Login("ann", "Taken!Over9pass"); r.Status != 200 {
			t.Errorf("password reset after a step-up did not apply: %d", r.Status)
		}
	})
}

// PUT /profile needs a recent authentication only to change the username or
// email; the web app sends the whole profile on every save.
func TestRecentAuth_ProfileIdentity(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("quinn", false)
		c := e.NewClient("web")
		c.MustLogin("quinn")
		goStale(t, e, c)
		same := map[string]any{"name": "Quinn Q", "username": "quinn", "email": "quinn@example.com", "city": "Porto"}
		if r := c.Do("PUT", "/api/v1/profile", same); r.Status != 200 {
			t.Fatalf("save without an identity change on a stale session: %d %s", r.Status, r.Body)
		}
		for _, change := range []map[string]any{{"username": "quinn2"}, {"email": "Q2@example.com"}} {
			if r := c.Do("PUT", "/api/v1/profile", change); r.Status != 403 || !strings.HasPrefix(r.Detail(), recentAuthMsg) {
				t.Fatalf("identity change %v on a stale session: %d %s", change, r.Status, r.Body)
			}
		}
		if p := c.Do("GET", "/api/v1/profile", nil).JSON(t); p["username"] != "quinn" || p["email"] != "quinn@example.com" || p["city"] != "Porto" {
			t.Fatalf("profile after the refusals: %v", p)
		}
	})
}

// One rule for a password-only step-up: for an account with MFA the password
// never counts as recent authentication, on POST /profile/reauth and on the
// password change alike; a code does. An account without MFA may use its
// current password on either. MFA disable takes its own code as the proof.
func TestRecentAuth_MFAPasswordRule(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("mona", false)
		e.CreateUser("nils", false)
		c := e.NewClient("web")
		c.MustLogin("mona")
		secret, _ := enableMFA(t, e, c)
		goStale(t, e, c)

		const newPW = "Fresh!Passw0rd2"
		change := map[string]any{"password": newPW, "current_password": httpapitest.Password}
		if r := c.Do("PUT", "/api/v1/profile/password", change); r.Status != 403 || r.Detail() != auth.MsgMFAPasswordNotEnough {
			t.Fatalf("password change with the password alone, MFA on: %d %s", r.Status, r.Body)
		}
		if r := c.Do("POST", "/api/v1/profile/reauth", map[string]string{"password": httpapitest.Password}); r.Status != 403 || r.Detail() != auth.MsgMFAPasswordNotEnough {
			t.Fatalf("password step-up, MFA on: %d %s", r.Status, r.Body)
		}
		if r := e.NewClient("mobile").Login("mona", newPW); r.Status != 401 {
			t.Fatalf("the password changed: %d", r.Status)
		}
		// A wrong code does not disable MFA on the stale session.
		if r := c.Do("POST", "/api/v1/profile/mfa/disable", map[string]string{"mfa_code": "000000"}); r.Status != 400 {
			t.Fatalf("disable with a wrong code: %d %s", r.Status, r.Body)
		}
		if r := c.Do("POST", "/api/v1/profile/mfa/verify", map[string]string{"mfa_code": totp(t, secret, e.Clock.Now())}); r.Status != 200 {
			t.Fatalf("code step-up: %d %s", r.Status, r.Body)
		}
		if r := c.Do("PUT", "/api/v1/profile/password", change); r.Status != 200 {
			t.Fatalf("password change after a code step-up: %d %s", r.Status, r.Body)
		}
		// Later, with a stale session, the code in the disable request is the
		// authentication.
		goStale(t, e, c)
		if r := c.Do("POST", "/api/v1/profile/mfa/disable", map[string]string{"mfa_code": totp(t, secret, e.Clock.Now())}); r.Status != 200 {
			t.Fatalf("disable with its code on a stale session: %d %s", r.Status, r.Body)
		}

		// Without MFA the current password is enough, on a stale session.
		n := e.NewClient("web")
		n.MustLogin("nils")
		goStale(t, e, n)
		if r := n.Do("PUT", "/api/v1/profile/password", map[string]any{"password": newPW}); r.Status != 403 || !strings.HasPrefix(r.Detail(), recentAuthMsg) {
			t.Fatalf("stale change without the current password: %d %s", r.Status, r.Body)
		}
		if r := n.Do("PUT", "/api/v1/profile/password", map[string]any{"password": newPW, "current_password": "Wrong!Passw0rd"}); r.Status != 400 || r.Detail() != auth.MsgWrongPassword {
			t.Fatalf("wrong current password: %d %s", r.Status, r.Body)
		}
		if r := n.Do("PUT", "/api/v1/profile/password", map[string]any{"password": newPW, "current_password": httpapitest.Password}); r.Status != 200 {
			t.Fatalf("stale change with the current password: %d %s", r.Status, r.Body)
		}
	})
}

// The window is the auth service's setting: a shorter one refuses sooner, and
// the step-up answers report it.
func TestRecentAuth_Window(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b, func(e *httpapitest.Env) { e.Auth.RecentAuthWindow = 2 * time.Minute })
		e.CreateUser("wes", false)
		c := e.NewClient("web")
		c.MustLogin("wes")
		e.Clock.Advance(3 * time.Minute)
		r := c.Do("DELETE", "/api/v1/profile/sessions", nil)
		if r.Status != 403 || !strings.HasSuffix(r.Detail(), "then retry within 2 minutes") {
			t.Fatalf("after 3 minutes with a 2-minute window: %d %s", r.Status, r.Body)
		}
		r = c.Do("POST", "/api/v1/profile/reauth", map[string]string{"password": httpapitest.Password})
		want := e.Clock.Now().Add(2 * time.Minute).UTC().Format(time.RFC3339)
		if got, _ := r.JSON(t)["valid_until"].(string); r.Status != 200 || !strings.HasPrefix(got, strings.TrimSuffix(want, "Z")) {
			t.Fatalf("reauth: %d %s, want valid_until %s", r.Status, r.Body, want)
		}
		if r := c.Do("DELETE", "/api/v1/profile/sessions", nil); r.Status != 200 {
			t.Fatalf("after the step-up: %d %s", r.Status, r.Body)
		}
	})
}

// Turning the new-device notice back on is never refused: only silencing it
// needs a recent authentication.
func TestRecentAuth_NoticeOnlyToTurnOff(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("nora", false)
		c := e.NewClient("web")
		c.MustLogin("nora")
		goStale(t, e, c)
		if r := c.Do("PUT", "/api/v1/profile/notices", map[string]bool{"new_sign_in": false}); r.Status != 403 || !strings.HasPrefix(r.Detail(), recentAuthMsg) {
			t.Fatalf("turning the notice off on a stale session: %d %s, want the step-up refusal", r.Status, r.Body)
		}
		if r := c.Do("GET", "/api/v1/profile/notices", nil); r.JSON(t)["new_sign_in"] != true {
			t.Errorf("a refused change was stored: %s", r.Body)
		}
		if r := c.Do("PUT", "/api/v1/profile/notices", map[string]bool{"new_sign_in": true}); r.Status != 200 {
			t.Errorf("turning the notice on on a stale session: %d %s", r.Status, r.Body)
		}
	})
}
