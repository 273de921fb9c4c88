package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/testkit"
)

// Admin writes to accounts and server settings need a recent authentication;
// admin reads do not.
func TestAdminWritesNeedRecentAuth(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("root", true)
		kim := e.CreateUser("kim", false)
		a := e.NewClient("web")
		a.MustLogin("root")
		e.Clock.Advance(11 * time.Minute)
		a.RefreshNow()
		uid := itoa(kim.ID)
		writes := []struct {
			method, path string
			body         any
		}{
			{"PUT", "/api/v1/users/" + uid, map[string]any{"id": kim.ID, "name": "Kim", "username": "kim", "email": "kim@example.com",
				"access_type": 1, "active": false, "preferred_language": "us", "gender": 1, "units": 1, "first_day_of_week": 1, "currency": 1}},
			{"PUT", "/api/v1/users/" + uid + "/password", map[string]any{"password": "An0ther!Passw0rd"}},
			{"POST", "/api/v1/users/" + uid + "/mfa/reset", map[string]any{}},
			{"PUT", "/api/v1/users/" + uid + "/approve", nil},
			{"POST", "/api/v1/users", map[string]any{"name": "Lee", "username": "lee", "email": "lee@example.com", "password": "An0ther!Passw0rd", "access_type": 1}},
			{"PUT", "/api/v1/server_settings", map[string]any{"signup_enabled": true}},
			{"DELETE", "/api/v1/users/" + uid, nil},
		}
		for _, w := range writes {
			if r := a.Do(w.method, w.path, w.body); r.Status != 403 || !strings.Contains(r.Detail(), "Recent authentication required") {
				t.Errorf("stale %s %s: %d %s", w.method, w.path, r.Status, r.Body)
			}
		}
		for _, path := range []string{"/api/v1/users/id/" + uid, "/api/v1/server_settings", "/api/v1/users/username/contains/ki", "/api/v1/sessions/user/" + uid} {
			if r := a.Do("GET", path, nil); r.Status != 200 {
				t.Errorf("stale read %s: %d %s", path, r.Status, r.Body)
			}
		}
		if r := a.Do("POST", "/api/v1/profile/reauth", map[string]string{"password": httpapitest.Password}); r.Status != 200 {
			t.Fatalf("reauth: %d %s", r.Status, r.Body)
		}
		for _, w := range writes {
			if r := a.Do(w.method, w.path, w.body); r.Status == 403 {
				t.Errorf("after step-up %s %s: %d %s", w.method, w.path, r.Status, r.Body)
			}
		}
		var n int
		e.Store.DB().QueryRow(`SELECT COUNT(*) FROM users WHERE id = $1`, kim.ID).Scan(&n)
		if n != 0 {
			t.Error("kim was not deleted after the step-up")
		}
	})
}

// The console's user search finds by name, username or email, pages, and
// counts; wildcards are literal.
func TestAdminUserSearch(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("root", true)
		for _, n := range []string{"anna", "annabel", "bob_x", "carl"} {
			e.CreateUser(n, false)
		}
		if _, err := e.Store.DB().Exec(`UPDATE users SET name = 'Zed Annaway' WHERE username = 'carl'`); err != nil {
			t.Fatal(err)
		}
		a := e.NewClient("web")
		a.MustLogin("root")
		find := func(q string) userSearch {
			t.Helper()
			r := a.Do("GET", "/api/v1/users/search"+q, nil)
			var p userSearch
			if r.Status != 200 || jsonUnmarshal(r.Body, &p) != nil {
				t.Fatalf("search %s: %d %s", q, r.Status, r.Body)
			}
			return p
		}
		if p := find("?q=ANNA"); p.Total != 3 || len(p.Users) != 3 {
			t.Errorf("anna: %+v", p)
		}
		if p := find("?q=carl%40example"); p.Total != 1 || p.Users[0].Username != "carl" {
			t.Errorf("by email: %+v", p)
		}
		if p := find("?q=_"); p.Total != 1 || p.Users[0].Username != "bob_x" {
			t.Errorf("literal underscore: %+v", p)
		}
		all := find("?per_page=2&page=3")
		if all.Total != 5 || len(all.Users) != 1 || all.Users[0].Username != "carl" || all.Page != 3 {
			t.Errorf("page 3: %+v", all)
		}
		for _, q := range []string{"?page=0", "?per_page=101", "?per_page=x", "?q=" + strings.Repeat("a", 251)} {
			if r := a.Do("GET", "/api/v1/users/search"+q, nil); r.Status != 422 {
				t.Errorf("%s: %d %s", q, r.Status, r.Body)
			}
		}
		u := e.NewClient("web")
		u.MustLogin("anna")
		if r := u.Do("GET", "/api/v1/users/search?q=a", nil); r.Status != 403 {
			t.Errorf("a user searched: %d", r.Status)
		}
	})
}

type userSearch struct {
	Users []struct {
		Username string `json:"username"`
	} `json:"users"`
	Total int `json:"total"`
	Page  int `json:"page"`
}
