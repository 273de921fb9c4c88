package httpapi_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/testkit"
)

// PUT /api/v1/idp/{id} changes only the fields sent.
func TestIdP_HTTPPartialUpdate(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		op := testkit.StartOIDC(t)
		e.CreateUser("root", true)
		admin := e.NewClient("web")
		admin.MustLogin("root")
		r := admin.Do("POST", "/api/v1/idp", map[string]any{"name": "Mock", "slug": "mock", "enabled": true,
			"client_id": op.ClientID(), "client_secret": op.ClientSecret(), "issuer_url": op.Issuer(),
			"auto_create_users": false, "link_by_verified_email": true, "user_mapping": map[string]any{"username": "nickname"},
			"token_endpoint_auth_method": "client_secret_post"})
		if r.Status != 201 || r.JSON(t)["warning"] != nil {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		id := itoa(int64(r.JSON(t)["id"].(float64)))

		r = admin.Do("PUT", "/api/v1/idp/"+id, map[string]any{"name": "Renamed"})
		got := r.JSON(t)
		if r.Status != 200 || got["name"] != "Renamed" || got["auto_create_users"] != false || got["link_by_verified_email"] != true ||
			got["token_endpoint_auth_method"] != "client_secret_post" || got["user_mapping"] == nil || got["has_client_secret"] != true ||
			got["slug"] != "mock" || got["issuer_url"] != op.Issuer() || strings.Contains(string(r.Body), op.ClientSecret()) {
			t.Fatalf("partial update: %d %s", r.Status, r.Body)
		}
		// null clears an optional field; for a required one it is a 422 naming it.
		r = admin.Do("PUT", "/api/v1/idp/"+id, map[string]any{"user_mapping": nil, "client_secret": nil})
		if r.Status != 200 || r.JSON(t)["user_mapping"] != nil || r.JSON(t)["has_client_secret"] != true {
			t.Fatalf("null user_mapping: %d %s", r.Status, r.Body)
		}
		r = admin.Do("PUT", "/api/v1/idp/"+id, map[string]any{"auto_create_users": nil})
		if r.Status != 422 || !strings.Contains(string(r.Body), `"auto_create_users"`) {
			t.Fatalf("null auto_create_users: %d %s", r.Status, r.Body)
		}
		if r := admin.Do("PUT", "/api/v1/idp/"+id, map[string]any{"enabled": "yes"}); r.Status != 422 {
			t.Fatalf("wrong type: %d %s", r.Status, r.Body)
		}
		// The provider still signs in with the kept secret and method.
		op.RejectBasicAuth(true)
		op.QueueUser("sub-pat", "pat", "pat@idp.example", true)
		admin.Do("PUT", "/api/v1/idp/"+id, map[string]any{"auto_create_users": true})
		if dest := ssoFlow(t, op, e.NewClient("web"), "/api/v1/public/idp/login/mock"); dest.Query().Get("sso") != "success" {
			t.Fatalf("sign-in after partial updates: %s", dest)
		}
	})
}

// Failures of the provider are redirects for browsers and 502 for API
// clients, never a 500; a save checks the issuer.
func TestIdP_HTTPProviderFailures(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		op := testkit.StartOIDC(t)
		e.CreateUser("root", true)
		admin := e.NewClient("web")
		admin.MustLogin("root")
		create := func(slug, issuer string, extra map[string]any) *httpapitest.Response {
			body := map[string]any{"name": slug, "slug": slug, "enabled": true, "client_id": op.ClientID(),
				"client_secret": op.ClientSecret(), "issuer_url": issuer}
			for k, v := range extra {
				body[k] = v
			}
			return admin.Do("POST", "/api/v1/idp", body)
		}

		r := create("slash", op.Issuer()+"/", nil)
		if r.Status != 422 || !strings.Contains(string(r.Body), "issuer_url") || !strings.Contains(string(r.Body), op.Issuer()) {
			t.Fatalf("mismatching issuer: %d %s", r.Status, r.Body)
		}
		r = create("down", testkit.UnreachableURL(t), nil)
		if r.Status != 201 || !strings.Contains(r.JSON(t)["warning"].(string), "could not be read") {
			t.Fatalf("unreachable provider: %d %s", r.Status, r.Body)
		}

		// SSO start against it: a browser goes back to the login page ...
		dest := location(t, e.NewClient("").Do("GET", "/api/v1/public/idp/login/down", nil, "Accept", "text/html,application/xhtml+xml"))
		if dest.Path != "/login" || dest.Query().Get("error") != "sso_failed" {
			t.Fatalf("browser start: %s", dest)
		}
		// ... an API client gets a 502 with a detail.
		for _, hdr := range [][]string{{"X-Client-Type", "mobile"}, {"Accept", "application/json"}} {
			r := e.NewClient("").Do("GET", "/api/v1/public/idp/login/down", nil, hdr...)
			if r.Status != 502 || !strings.Contains(r.Detail(), "could not be reached") {
				t.Fatalf("API start (%v): %d %s", hdr, r.Status, r.Body)
			}
		}
		// An unknown provider is still a 404 for API clients.
		if r := e.NewClient("mobile").Do("GET", "/api/v1/public/idp/login/nope", nil); r.Status != 404 {
			t.Fatalf("unknown slug: %d %s", r.Status, r.Body)
		}

		// The token endpoint does not answer: the callback fails the same way.
		tokenURL := testkit.UnreachableURL(t) + "/token"
		if r := create("deadtoken", op.Issuer(), map[string]any{"token_endpoint": tokenURL}); r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		for _, api := range []bool{false, true} {
			c := e.NewClient("web")
			authURL := location(t, c.Do("GET", "/api/v1/public/idp/login/deadtoken", nil, "X-Client-Type", ""))
			op.QueueUser("sub-dt", "dt", "dt@idp.example", true)
			code, state := op.Authorize(t, authURL.String())
			cb := "/api/v1/public/idp/callback/deadtoken?" + url.Values{"code": {code}, "state": {state}}.Encode()
			if api {
				r := c.Do("GET", cb, nil)
				if r.Status != 502 || !strings.Contains(r.Detail(), "could not be reached") {
					t.Fatalf("API callback: %d %s", r.Status, r.Body)
				}
				continue
			}
			dest := location(t, c.Do("GET", cb, nil, "X-Client-Type", ""))
			if dest.Path != "/login" || dest.Query().Get("error") != "sso_failed" {
				t.Fatalf("browser callback: %s", dest)
			}
		}

		// Failures the login page has its own message for.
		if r := create("closed", op.Issuer(), map[string]any{"auto_create_users": false}); r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		op.QueueUser("sub-stranger", "stranger", "stranger@idp.example", true)
		c := e.NewClient("web")
		authURL := location(t, c.Do("GET", "/api/v1/public/idp/login/closed", nil, "X-Client-Type", ""))
		code, state := op.Authorize(t, authURL.String())
		cb := "/api/v1/public/idp/callback/closed?" + url.Values{"code": {code}, "state": {state}}.Encode()
		if dest := location(t, c.Do("GET", cb, nil, "X-Client-Type", "")); dest.Query().Get("error") != "sso_auto_create_disabled" {
			t.Fatalf("auto-create off: %s", dest)
		}
		authURL = location(t, c.Do("GET", "/api/v1/public/idp/login/closed", nil, "X-Client-Type", ""))
		cb = "/api/v1/public/idp/callback/closed?" + url.Values{"error": {"access_denied"}, "state": {authURL.Query().Get("state")}}.Encode()
		if dest := location(t, c.Do("GET", cb, nil, "X-Client-Type", "")); dest.Query().Get("error") != "sso_cancelled" {
			t.Fatalf("consent refused: %s", dest)
		}
	})
}
