package httpapi_test

import (
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"

	"github.com/trailpass/trailpass/internal/testkit"
)

func TestUsersAdmin(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		root := e.CreateUser("root", true)
		admin := e.NewClient("web")
		admin.MustLogin("root")
		r := admin.Do("POST", "/api/v1/users", map[string]any{"username": "Vic", "email": "vic@example.com", "name": "Vic", "password": httpapitest.Password, "access_type": 1})
		if r.Status != 201 || r.JSON(t)["username"] != "vic" || strings.Contains(string(r.Body), "$argon2id") {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		vicID := itoa(int64(r.JSON(t)["id"].(float64)))
		if r := admin.Do("GET", "/api/v1/users/number", nil); strings.TrimSpace(string(r.Body)) != "2" {
			t.Fatalf("number: %s", r.Body)
		}
		var page []map[string]any
		if r := admin.Do("GET", "/api/v1/users/page_number/1/num_records/10", nil); jsonUnmarshal(r.Body, &page) != nil || len(page) != 2 || page[1]["username"] != "vic" {
			t.Fatalf("page: %s", r.Body)
		}
		vic := e.NewClient("mobile")
		vic.MustLogin("vic")
		if r := vic.Do("GET", "/api/v1/users/number", nil); r.Status != 403 {
			t.Fatalf("regular user on admin route: %d", r.Status)
		}
		// A weak password is Endurain's 422 (was 400), for a reset and a new user.
		wantWeakPassword(t, admin.Do("PUT", "/api/v1/users/"+vicID+"/password", map[string]string{"password": "weakpass"}))
		wantWeakPassword(t, admin.Do("POST", "/api/v1/users", map[string]any{"username": "wes", "email": "wes@example.com", "name": "Wes", "password": "weakpass", "access_type": 1}))
		if r := admin.Do("GET", "/api/v1/users/number", nil); strings.TrimSpace(string(r.Body)) != "2" {
			t.Fatalf("weak password created a user: %s", r.Body)
		}
		// A password reset by an admin ends the account's sessions.
		if r := admin.Do("PUT", "/api/v1/users/"+vicID+"/password", map[string]string{"password": "Reset!Passw0rd"}); r.Status != 200 || r.JSON(t)["sessions_revoked"] != float64(1) {
			t.Fatalf("password reset: %d %s", r.Status, r.Body)
		}
		if r := vic.Do("GET", "/api/v1/profile", nil); r.Status != 401 {
			t.Fatalf("session survived an admin password reset: %d", r.Status)
		}
		vic.Login("vic", "Reset!Passw0rd")
		// Deactivating ends the account's sessions at once.
		if r := admin.Do("PUT", "/api/v1/users/"+vicID, map[string]any{"active": false}); r.Status != 200 || r.JSON(t)["active"] != false {
			t.Fatalf("deactivate: %d %s", r.Status, r.Body)
		}
		if r := vic.Do("GET", "/api/v1/profile", nil); r.Status != 401 {
			t.Fatalf("deactivated user's session still works: %d", r.Status)
		}
		if r := e.NewClient("web").Login("vic", "Reset!Passw0rd"); r.Status != 401 {
			t.Fatalf("deactivated user signed in: %d", r.Status)
		}
		// The last active admin can be neither demoted nor deactivated.
		for _, body := range []map[string]any{{"access_type": 1}, {"active": false}} {
			r := admin.Do("PUT", "/api/v1/users/"+itoa(root.ID), body)
			if r.Status != 403 || r.Detail() != "Cannot deactivate or demote the last active admin" {
				t.Fatalf("last admin %v: %d %s", body, r.Status, r.Body)
			}
		}
		// The list says who has MFA (read for the whole page at once).
		e.CreateUser("wyn", false)
		wyn := e.NewClient("mobile")
		wyn.MustLogin("wyn")
		enableMFA(t, e, wyn)
		if r := admin.Do("GET", "/api/v1/users/page_number/1/num_records/10", nil); jsonUnmarshal(r.Body, &page) != nil ||
			len(page) != 3 || page[0]["mfa_enabled"] != false || page[2]["mfa_enabled"] != true {
			t.Fatalf("mfa flags in the page: %s", r.Body)
		}
		// With a second admin, demoting the first is fine.
		admin.Do("PUT", "/api/v1/users/"+vicID, map[string]any{"active": true, "access_type": 2})
		if r := admin.Do("PUT", "/api/v1/users/"+itoa(root.ID), map[string]any{"access_type": 1}); r.Status != 200 {
			t.Fatalf("demote with another admin: %d %s", r.Status, r.Body)
		}
	})
}
