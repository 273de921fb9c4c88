package httpapi_test

import (
	"bytes"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/testkit"
)

// Server settings round-trip through the database, and a switch flipped on one
// instance holds on another instance on the same database at once.
func TestServerSettings(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		one := httpapitest.New(t, b)
		two := httpapitest.New(t, b) // a second instance on the same database
		op := testkit.StartOIDC(t)
		one.CreateUser("root", true)
		one.CreateUser("rae", false)
		admin := one.NewClient("web")
		admin.MustLogin("root")

		// Endurain's defaults, except sso_enabled (see the migration).
		r := admin.Do("GET", "/api/v1/server_settings", nil)
		want := map[string]any{"id": 1.0, "units": 1.0, "currency": 1.0, "num_records_per_page": 25.0,
			"public_shareable_links": false, "public_shareable_links_user_info": false, "login_photo_set": false,
			"signup_enabled": false, "signup_require_admin_approval": true, "signup_require_email_verification": true,
			"sso_enabled": true, "local_login_enabled": true, "sso_auto_redirect": false}
		got := r.JSON(t)
		if r.Status != 200 || len(got) != len(want) {
			t.Fatalf("read: %d %s", r.Status, r.Body)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("default %s = %v, want %v", k, got[k], v)
			}
		}
		rae := one.NewClient("mobile")
		rae.MustLogin("rae")
		if r := rae.Do("GET", "/api/v1/server_settings", nil); r.Status != 403 {
			t.Fatalf("regular user read the settings: %d", r.Status)
		}
		if r := rae.Do("PUT", "/api/v1/server_settings", map[string]any{"local_login_enabled": false}); r.Status != 403 {
			t.Fatalf("regular user changed the settings: %d", r.Status)
		}

		// The web app's ServerSettingsEdit body, as its settings page sends it.
		edit := map[string]any{"id": 1, "units": 2, "currency": 3, "num_records_per_page": 50,
			"public_shareable_links": true, "public_shareable_links_user_info": true, "login_photo_set": false,
			"signup_enabled": true, "signup_require_admin_approval": false, "signup_require_email_verification": false,
			"sso_enabled": true, "local_login_enabled": true, "sso_auto_redirect": true}
		if r := admin.Do("PUT", "/api/v1/server_settings", edit); r.Status != 200 || r.JSON(t)["currency"] != 3.0 {
			t.Fatalf("edit: %d %s", r.Status, r.Body)
		}
		// Read back through the other instance, and publicly without the sign-up
		// requirements (ServerSettingsReadPublic).
		admin2 := two.NewClient("web")
		admin2.MustLogin("root")
		got = admin2.Do("GET", "/api/v1/server_settings", nil).JSON(t)
		for k, v := range edit {
			if f, ok := v.(int); ok {
				v = float64(f)
			}
			if got[k] != v {
				t.Fatalf("after edit %s = %v, want %v", k, got[k], v)
			}
		}
		pub := two.NewClient("web").Do("GET", "/api/v1/public/server_settings", nil).JSON(t)
		if pub["units"] != 2.0 || pub["signup_enabled"] != true || pub["sso_auto_redirect"] != true {
			t.Fatalf("public settings: %v", pub)
		}
		if _, ok := pub["signup_require_admin_approval"]; ok {
			t.Fatalf("public settings show the sign-up requirements: %v", pub)
		}

		// Bad values: 422 naming the fields, nothing written.
		r = admin.Do("PUT", "/api/v1/server_settings", map[string]any{"units": 7, "currency": "euro", "num_records_per_page": 0, "local_login_enabled": false})
		if r.Status != 422 || !strings.Contains(string(r.Body), "units") || !strings.Contains(string(r.Body), "currency") ||
			!strings.Contains(string(r.Body), "num_records_per_page") {
			t.Fatalf("bad values: %d %s", r.Status, r.Body)
		}
		if r := admin.Do("PUT", "/api/v1/server_settings", "[1]"); r.Status != 422 {
			t.Fatalf("not an object: %d %s", r.Status, r.Body)
		}
		if got := admin2.Do("GET", "/api/v1/server_settings", nil).JSON(t); got["units"] != 2.0 || got["local_login_enabled"] != true {
			t.Fatalf("a rejected edit was written: %v", got)
		}

		// SSO: a provider is listed while SSO is on, not once it is off (on
		// the other instance), and sign-in through it is refused.
		if r := admin.Do("POST", "/api/v1/idp", map[string]any{"name": "Mock", "slug": "mock", "provider_type": "oidc", "enabled": true,
			"client_id": op.ClientID(), "client_secret": op.ClientSecret(), "issuer_url": op.Issuer(), "scopes": "openid profile email",
			"auto_create_users": true}); r.Status != 201 {
			t.Fatalf("create provider: %d %s", r.Status, r.Body)
		}
		anon := two.NewClient("web")
		if r := anon.Do("GET", "/api/v1/public/idp", nil); !strings.Contains(string(r.Body), `"slug":"mock"`) {
			t.Fatalf("provider not listed with SSO on: %s", r.Body)
		}
		// Start a sign-in while SSO is on, to finish it after SSO was switched off.
		started := anon.Do("GET", "/api/v1/public/idp/login/mock", nil, "X-Client-Type", "")
		authURL := location(t, started)
		if r := admin.Do("PUT", "/api/v1/server_settings", map[string]any{"sso_enabled": false}); r.Status != 200 || r.JSON(t)["sso_enabled"] != false {
			t.Fatalf("sso off: %d %s", r.Status, r.Body)
		}
		if r := anon.Do("GET", "/api/v1/public/idp", nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != "[]" {
			t.Fatalf("providers listed with SSO off: %d %s", r.Status, r.Body)
		}
		if r := anon.Do("GET", "/api/v1/public/server_settings", nil); r.JSON(t)["sso_enabled"] != false {
			t.Fatalf("public settings say SSO is on: %s", r.Body)
		}
		// A browser is sent back to the sign-in page; an API client reads why.
		if loc := location(t, anon.Do("GET", "/api/v1/public/idp/login/mock", nil, "X-Client-Type", "")); loc.Path != "/login" || loc.Query().Get("error") != "sso_failed" {
			t.Fatalf("SSO start with SSO off, browser: %s", loc)
		}
		if r := anon.Do("GET", "/api/v1/public/idp/login/mock", nil, "X-Client-Type", "web"); r.Status != 403 || r.Detail() != "SSO login is disabled" {
			t.Fatalf("SSO start with SSO off: %d %s", r.Status, r.Body)
		}
		code, state := op.Authorize(t, authURL.String())
		cb := anon.Do("GET", "/api/v1/public/idp/callback/mock?"+url.Values{"code": {code}, "state": {state}}.Encode(), nil, "X-Client-Type", "")
		if loc := location(t, cb); loc.Path != "/login" || loc.Query().Get("error") != "sso_failed" || anon.Cookie("endurain_access_token") != "" {
			t.Fatalf("SSO callback with SSO off signed in: %s", loc)
		}

		// Local login off, set on one instance: the other refuses passwords at
		// once, for web and mobile, even with the right password.
		if r := admin2.Do("PUT", "/api/v1/server_settings", map[string]any{"local_login_enabled": false}); r.Status != 200 {
			t.Fatalf("local login off: %d %s", r.Status, r.Body)
		}
		for _, ct := range []string{"web", "mobile"} {
			r := one.NewClient(ct).Login("rae", httpapitest.Password)
			if r.Status != 403 || r.Detail() != "Local login is disabled. Sign in with your identity provider." {
				t.Fatalf("%s sign-in with local login off: %d %s", ct, r.Status, r.Body)
			}
		}
		// Sessions that exist stay valid (the admin can still switch it back).
		if r := admin.Do("PUT", "/api/v1/server_settings", map[string]any{"local_login_enabled": true}); r.Status != 200 {
			t.Fatalf("local login on: %d %s", r.Status, r.Body)
		}
		if r := two.NewClient("web").Login("rae", httpapitest.Password); r.Status != 200 {
			t.Fatalf("sign-in after local login is back: %d %s", r.Status, r.Body)
		}
	})
}

// With local login off, an MFA sign-in started by password cannot be finished
// either.
func TestServerSettings_LocalLoginOffStopsPendingMFA(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("root", true)
		e.CreateUser("mo", false)
		mo := e.NewClient("mobile")
		mo.MustLogin("mo")
		secret, _ := enableMFA(t, e, mo)
		c := e.NewClient("mobile")
		r := c.Login("mo", httpapitest.Password)
		ticket, _ := r.JSON(t)["mfa_ticket"].(string)
		if r.Status != 200 || ticket == "" {
			t.Fatalf("mfa challenge: %d %s", r.Status, r.Body)
		}
		admin := e.NewClient("web")
		admin.MustLogin("root")
		if r := admin.Do("PUT", "/api/v1/server_settings", map[string]any{"local_login_enabled": false}); r.Status != 200 {
			t.Fatalf("local login off: %d", r.Status)
		}
		e.Clock.Advance(31 * time.Second) // a fresh TOTP step
		r = c.Do("POST", "/api/v1/mfa/verify", map[string]any{"username": "mo", "mfa_code": totp(t, secret, e.Clock.Now()), "mfa_ticket": ticket})
		if r.Status != 403 || r.Detail() != "Local login is disabled. Sign in with your identity provider." {
			t.Fatalf("MFA step with local login off: %d %s", r.Status, r.Body)
		}
	})
}

// The sign-in page's photo: uploaded by an admin under the profile photo's
// checks, served publicly at /server_images/login.png, and login_photo_set
// follows it whatever a settings edit says.
func TestServerSettings_LoginPhoto(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("root", true)
		e.CreateUser("ulf", false)
		admin := e.NewClient("web")
		admin.MustLogin("root")
		anon := e.NewClient("web")
		if r := anon.Do("GET", "/server_images/login.png", nil); r.Status != 404 {
			t.Fatalf("photo before upload: %d", r.Status)
		}
		ulf := e.NewClient("mobile")
		ulf.MustLogin("ulf")
		good := pngBytes(t, 40, 30)
		if r := ulf.Upload("/api/v1/server_settings/upload/login", "file", "login.png", good); r.Status != 403 {
			t.Fatalf("regular user uploaded the login photo: %d", r.Status)
		}
		if r := admin.Upload("/api/v1/server_settings/upload/login", "file", "login.png", good); r.Status != 201 {
			t.Fatalf("upload: %d %s", r.Status, r.Body)
		}
		img := anon.Do("GET", "/server_images/login.png", nil)
		if _, err := png.Decode(bytes.NewReader(img.Body)); img.Status != 200 || img.Header.Get("Content-Type") != "image/png" || err != nil {
			t.Fatalf("serve: %d %s %v", img.Status, img.Header.Get("Content-Type"), err)
		}
		if r := anon.Do("GET", "/api/v1/public/server_settings", nil); r.JSON(t)["login_photo_set"] != true {
			t.Fatalf("login_photo_set after upload: %s", r.Body)
		}
		// A rejected upload keeps the current photo; an edit cannot flip the flag.
		if r := admin.Upload("/api/v1/server_settings/upload/login", "file", "x.png", []byte("GIF89a not an image")); r.Status != 400 {
			t.Fatalf("bad upload: %d %s", r.Status, r.Body)
		}
		if r := admin.Do("PUT", "/api/v1/server_settings", map[string]any{"login_photo_set": false, "units": 2}); r.Status != 200 || r.JSON(t)["login_photo_set"] != true {
			t.Fatalf("edit flipped login_photo_set: %d %s", r.Status, r.Body)
		}
		if r := anon.Do("GET", "/server_images/login.png", nil); !bytes.Equal(r.Body, img.Body) {
			t.Fatal("a rejected upload changed the photo")
		}
		if r := anon.Do("GET", "/server_images/other.png", nil); r.Status != 404 {
			t.Fatalf("other server image: %d", r.Status)
		}
		if r := admin.Do("DELETE", "/api/v1/server_settings/upload/login", nil); r.Status != 200 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if r := anon.Do("GET", "/server_images/login.png", nil); r.Status != 404 {
			t.Fatalf("photo after delete: %d", r.Status)
		}
		if r := admin.Do("GET", "/api/v1/server_settings", nil); r.JSON(t)["login_photo_set"] != false || r.JSON(t)["units"] != 2.0 {
			t.Fatalf("settings after delete: %s", r.Body)
		}
	})
}
