package httpapi_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"

	"github.com/trailpass/trailpass/internal/testkit"
)

// follow returns the Location of a redirect response, parsed.
func location(t *testing.T, r *httpapitest.Response) *url.URL {
	t.Helper()
	if r.Status != 307 && r.Status != 302 && r.Status != 303 {
		t.Fatalf("want a redirect, got %d %s", r.Status, r.Body)
	}
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// ssoFlow drives a browser through begin → provider → callback and returns the
// callback's redirect target.
func ssoFlow(t *testing.T, op *testkit.OIDCProvider, c *httpapitest.Client, begin string) *url.URL {
	t.Helper()
	authURL := location(t, c.Do("GET", begin, nil, "X-Client-Type", ""))
	code, state := op.Authorize(t, authURL.String())
	cb := c.Do("GET", "/api/v1/public/idp/callback/mock?"+url.Values{"code": {code}, "state": {state}}.Encode(), nil, "X-Client-Type", "")
	return location(t, cb)
}

func TestIdP_HTTP(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		op := testkit.StartOIDC(t)
		e.CreateUser("root", true)
		lin := e.CreateUser("lin", false)
		admin := e.NewClient("web")
		admin.MustLogin("root")

		// Admin CRUD; the secret never comes back.
		r := admin.Do("POST", "/api/v1/idp", map[string]any{"name": "Mock", "slug": "mock", "provider_type": "oidc", "enabled": true,
			"client_id": op.ClientID(), "client_secret": op.ClientSecret(), "issuer_url": op.Issuer(), "scopes": "openid profile email",
			"auto_create_users": true})
		if r.Status != 201 || strings.Contains(string(r.Body), op.ClientSecret()) {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		idpID := itoa(int64(r.JSON(t)["id"].(float64)))
		if r := admin.Do("POST", "/api/v1/idp", map[string]any{"name": "Dup", "slug": "mock", "client_id": "x", "client_secret": "y", "issuer_url": op.Issuer()}); r.Status != 409 {
			t.Fatalf("duplicate slug: %d %s", r.Status, r.Body)
		}
		if r := admin.Do("GET", "/api/v1/idp", nil); strings.Contains(string(r.Body), op.ClientSecret()) || !strings.Contains(string(r.Body), op.ClientID()) {
			t.Fatalf("admin list: %s", r.Body)
		}
		if r := admin.Do("GET", "/api/v1/idp/templates", nil); r.Status != 200 || !strings.Contains(string(r.Body), "keycloak") || !strings.Contains(string(r.Body), "pocket") {
			t.Fatalf("templates: %d %s", r.Status, r.Body)
		}
		user := e.NewClient("web")
		user.MustLogin("lin")
		if r := user.Do("GET", "/api/v1/idp", nil); r.Status != 200 || strings.Contains(string(r.Body), op.ClientID()) || !strings.Contains(string(r.Body), `"slug":"mock"`) {
			t.Fatalf("regular list: %d %s", r.Status, r.Body)
		}
		if r := user.Do("POST", "/api/v1/idp", map[string]any{"name": "x"}); r.Status != 403 {
			t.Fatalf("regular create: %d", r.Status)
		}
		if r := e.NewClient("").Do("GET", "/api/v1/public/idp", nil); r.Status != 200 || !strings.Contains(string(r.Body), `"slug":"mock"`) {
			t.Fatalf("public list: %d %s", r.Status, r.Body)
		}

		t.Run("SSOLoginCreatesThenSignsIn", func(t *testing.T) {
			op.QueueUser("sub-zoe", "zoe", "zoe@idp.example", true)
			c := e.NewClient("web")
			dest := ssoFlow(t, op, c, "/api/v1/public/idp/login/mock?redirect=https://evil.example/")
			if dest.Path != "/login" || dest.Query().Get("sso") != "success" || !uuidRE.MatchString(dest.Query().Get("session_id")) || dest.Query().Get("redirect") != "" {
				t.Fatalf("callback redirect: %s", dest)
			}
			if dest.Host != strings.TrimPrefix(e.URL, "http://") {
				t.Fatalf("redirect left our origin: %s", dest)
			}
			me := c.Do("GET", "/api/v1/profile", nil)
			if me.Status != 200 || me.JSON(t)["username"] != "zoe" || me.JSON(t)["has_password"] != false {
				t.Fatalf("profile after SSO: %d %s", me.Status, me.Body)
			}
			op.QueueUser("sub-zoe", "zoe", "zoe@idp.example", true)
			c2 := e.NewClient("web")
			dest = ssoFlow(t, op, c2, "/api/v1/public/idp/login/mock?redirect=/settings")
			if dest.Query().Get("sso") != "success" || dest.Query().Get("redirect") != "/settings" {
				t.Fatalf("second login: %s", dest)
			}
			if c2.Do("GET", "/api/v1/profile", nil).JSON(t)["id"] != me.JSON(t)["id"] {
				t.Fatal("second SSO login signed in another account")
			}
			// SSO-only account: the last-method guard holds.
			r := c2.Do("DELETE", "/api/v1/profile/idp/"+idpID, nil)
			if r.Status != 400 || r.Detail() != "Cannot unlink last authentication method. Please set a password first." {
				t.Fatalf("unlink last method: %d %s", r.Status, r.Body)
			}

			// With MFA on, the provider alone is not enough.
			secret, _ := enableMFA(t, e, c2)
			op.QueueUser("sub-zoe", "zoe", "zoe@idp.example", true)
			c3 := e.NewClient("web")
			dest = ssoFlow(t, op, c3, "/api/v1/public/idp/login/mock?redirect=/gears")
			if dest.Path != "/trailpass/mfa" || dest.Query().Get("username") != "zoe" || dest.Query().Get("redirect") != "/gears" ||
				dest.Query().Has("sso") || c3.Cookie("endurain_access_token") != "" {
				t.Fatalf("MFA account signed in by SSO alone: %s", dest)
			}
			if r := c3.Do("GET", "/api/v1/profile", nil); r.Status != 401 {
				t.Fatalf("profile before MFA: %d", r.Status)
			}
			e.Clock.Advance(30 * time.Second)
			r = c3.Do("POST", "/api/v1/mfa/verify", map[string]string{"username": "zoe", "mfa_code": totp(t, secret, e.Clock.Now())})
			if r.Status != 200 || c3.Do("GET", "/api/v1/profile", nil).Status != 200 {
				t.Fatalf("MFA step after SSO: %d %s", r.Status, r.Body)
			}
		})

		// An email the user typed in is not vouched for: a provider that links by
		// verified email must not hand that account to the address's owner.
		t.Run("NoTakeoverBySquattedEmail", func(t *testing.T) {
			r := admin.Do("PUT", "/api/v1/idp/"+idpID, map[string]any{"name": "Mock", "slug": "mock", "provider_type": "oidc", "enabled": true,
				"client_id": op.ClientID(), "issuer_url": op.Issuer(), "scopes": "openid profile email", "auto_create_users": true, "link_by_verified_email": true})
			if r.Status != 200 {
				t.Fatalf("enable email linking: %d %s", r.Status, r.Body)
			}
			defer admin.Do("PUT", "/api/v1/idp/"+idpID, map[string]any{"name": "Mock", "slug": "mock", "provider_type": "oidc", "enabled": true,
				"client_id": op.ClientID(), "issuer_url": op.Issuer(), "scopes": "openid profile email", "auto_create_users": true})
			mal := e.CreateUser("mal", false)
			mc := e.NewClient("web")
			mc.MustLogin("mal")
			body := webAppProfileBody(mal.ID, "mal")
			body["email"] = "victim@idp.example"
			if r := mc.Do("PUT", "/api/v1/profile", body); r.Status != 200 {
				t.Fatalf("email change: %d %s", r.Status, r.Body)
			}
			if me := mc.Do("GET", "/api/v1/profile", nil).JSON(t); me["email_verified"] != false {
				t.Fatalf("a changed email stays verified: %v", me["email_verified"])
			}
			op.QueueUser("sub-victim", "victim", "victim@idp.example", true)
			dest := ssoFlow(t, op, e.NewClient("web"), "/api/v1/public/idp/login/mock")
			if dest.Query().Get("error") != "sso_failed" {
				t.Fatalf("squatted email: %s", dest)
			}
			if r := mc.Do("GET", "/api/v1/profile/idp", nil); strings.TrimSpace(string(r.Body)) != "[]" {
				t.Fatalf("the squatter's account got the identity: %s", r.Body)
			}
		})

		t.Run("LinkAndUnlink", func(t *testing.T) {
			op.QueueUser("sub-lin", "lin-at-idp", "lin@idp.example", true)
			dest := ssoFlow(t, op, user, "/api/v1/profile/idp/"+idpID+"/link")
			if dest.Path != "/settings" || dest.Query().Get("idp_link") != "success" || dest.Query().Get("idp_name") != "Mock" || dest.Query().Get("idp_id") != idpID {
				t.Fatalf("link redirect: %s", dest)
			}
			r := user.Do("GET", "/api/v1/profile/idp", nil)
			if r.Status != 200 || !strings.Contains(string(r.Body), `"idp_slug":"mock"`) || !strings.Contains(string(r.Body), `"idp_name":"Mock"`) {
				t.Fatalf("links: %d %s", r.Status, r.Body)
			}
			if r := admin.Do("GET", "/api/v1/users/"+itoa(lin.ID)+"/identity-providers", nil); !strings.Contains(string(r.Body), `"idp_slug":"mock"`) {
				t.Fatalf("admin view of links: %s", r.Body)
			}
			if r := user.Do("GET", "/api/v1/users/"+itoa(lin.ID)+"/identity-providers", nil); r.Status != 403 {
				t.Fatalf("regular user on the admin links route: %d", r.Status)
			}
			// Linked subjects belong to this issuer: it cannot be swapped under them,
			// and the stored secret is not sent to a new token endpoint.
			r = admin.Do("PUT", "/api/v1/idp/"+idpID, map[string]any{"name": "Mock", "slug": "mock", "provider_type": "oidc", "enabled": true,
				"client_id": op.ClientID(), "client_secret": "x", "issuer_url": "https://other-issuer.example", "scopes": "openid"})
			if r.Status != 409 {
				t.Fatalf("issuer change with links: %d %s", r.Status, r.Body)
			}
			// Deleting a provider with linked users is refused.
			if r := admin.Do("DELETE", "/api/v1/idp/"+idpID, nil); r.Status != 409 {
				t.Fatalf("delete linked provider: %d %s", r.Status, r.Body)
			}
			// An identity that belongs to another account cannot be linked.
			e.CreateUser("kim", false)
			kim := e.NewClient("web")
			kim.MustLogin("kim")
			op.QueueUser("sub-lin", "lin-at-idp", "lin@idp.example", true)
			dest = ssoFlow(t, op, kim, "/api/v1/profile/idp/"+idpID+"/link")
			if dest.Query().Get("idp_link") != "error" || dest.Query().Get("reason") != "conflict" {
				t.Fatalf("linking another account's identity: %s", dest)
			}
			if r := kim.Do("GET", "/api/v1/profile/idp", nil); strings.TrimSpace(string(r.Body)) != "[]" {
				t.Fatalf("kim got a link: %s", r.Body)
			}
			// A password user may unlink.
			if r := user.Do("DELETE", "/api/v1/profile/idp/"+idpID, nil); r.Status != 204 {
				t.Fatalf("unlink: %d %s", r.Status, r.Body)
			}
			// Linking needs a recent sign-in.
			e.Clock.Advance(11 * time.Minute)
			user.RefreshNow()
			dest = location(t, user.Do("GET", "/api/v1/profile/idp/"+idpID+"/link", nil, "X-Client-Type", ""))
			if dest.Query().Get("idp_link") != "error" || dest.Query().Get("reauth_required") != "true" {
				t.Fatalf("stale link: %s", dest)
			}
		})
	})
}
