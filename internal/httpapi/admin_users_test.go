package httpapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/seed"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// The admin's user pages as Endurain's web app drives them: create and edit
// with every profile field, search, look-up, approve, photos.
func TestUsersAdmin_EndurainPages(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("root", true)
		admin := e.NewClient("web")
		admin.MustLogin("root")

		// Create with Endurain's UserCreate: every profile field is stored.
		create := map[string]any{"name": "Rita Rider", "username": "Rita", "email": "rita@example.com", "password": httpapitest.Password,
			"city": "Braga", "birthdate": "1988-07-14", "preferred_language": "pt", "gender": 2, "units": 2, "height": 168,
			"max_heart_rate": 185, "first_day_of_week": 0, "currency": 3, "access_type": 1, "active": true,
			"photo_path": nil, "mfa_enabled": false, "email_verified": false, "pending_admin_approval": false}
		r := admin.Do("POST", "/api/v1/users", create)
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		rita := r.JSON(t)
		ritaID := itoa(int64(rita["id"].(float64)))
		for k, v := range map[string]any{"username": "rita", "city": "Braga", "birthdate": "1988-07-14", "preferred_language": "pt",
			"gender": 2.0, "units": 2.0, "height": 168.0, "max_heart_rate": 185.0, "first_day_of_week": 0.0, "currency": 3.0} {
			if rita[k] != v {
				t.Fatalf("created %s = %v, want %v (%s)", k, rita[k], v, r.Body)
			}
		}
		// Bad profile values are refused under the profile's rules, and nothing is created.
		bad := map[string]any{"name": "X", "username": "xavi", "email": "xavi@example.com", "password": httpapitest.Password,
			"gender": 9, "units": 5, "preferred_language": "xx", "birthdate": "2999-01-01", "height": "tall"}
		r = admin.Do("POST", "/api/v1/users", bad)
		for _, f := range []string{"height"} {
			if r.Status != 422 || !strings.Contains(string(r.Body), f) {
				t.Fatalf("bad create (types): %d %s", r.Status, r.Body)
			}
		}
		delete(bad, "height")
		r = admin.Do("POST", "/api/v1/users", bad)
		for _, f := range []string{"gender", "units", "preferred_language", "birthdate"} {
			if r.Status != 422 || !strings.Contains(string(r.Body), `"`+f+`"`) {
				t.Fatalf("bad create: %s not named: %d %s", f, r.Status, r.Body)
			}
		}
		if n := admin.Do("GET", "/api/v1/users/number", nil); strings.TrimSpace(string(n.Body)) != "2" {
			t.Fatalf("a refused create left an account: %s", n.Body)
		}

		// Edit with the web app's full UserRead: profile fields change, the
		// photo path and flags in the body do not.
		edit := rita
		edit["city"], edit["units"], edit["height"], edit["currency"], edit["name"] = "Lisboa", 1, 170, 1, "Rita R."
		edit["email_verified"], edit["pending_admin_approval"], edit["photo_path"] = true, true, "/etc/passwd"
		r = admin.Do("PUT", "/api/v1/users/"+ritaID, edit)
		if r.Status != 200 {
			t.Fatalf("edit: %d %s", r.Status, r.Body)
		}
		got := admin.Do("GET", "/api/v1/users/id/"+ritaID, nil).JSON(t)
		if got["city"] != "Lisboa" || got["units"] != 1.0 || got["height"] != 170.0 || got["currency"] != 1.0 || got["name"] != "Rita R." ||
			got["photo_path"] != nil || got["pending_admin_approval"] != false || got["birthdate"] != "1988-07-14" {
			t.Fatalf("after edit: %v", got)
		}
		r = admin.Do("PUT", "/api/v1/users/"+ritaID, map[string]any{"city": strings.Repeat("x", 300), "first_day_of_week": 9, "access_type": 7})
		if r.Status != 422 || !strings.Contains(string(r.Body), "city") || !strings.Contains(string(r.Body), "first_day_of_week") || !strings.Contains(string(r.Body), "access_type") {
			t.Fatalf("bad edit: %d %s", r.Status, r.Body)
		}
		if got := admin.Do("GET", "/api/v1/users/id/"+ritaID, nil).JSON(t); got["city"] != "Lisboa" || got["first_day_of_week"] != 0.0 {
			t.Fatalf("a refused edit was written: %v", got)
		}

		// Search by part of the username, case-insensitively; LIKE wildcards are literal.
		e.CreateUser("maria", false)
		e.CreateUser("marco", false)
		var found []map[string]any
		if r := admin.Do("GET", "/api/v1/users/username/contains/RI", nil); r.Status != 200 || jsonUnmarshal(r.Body, &found) != nil ||
			len(found) != 2 || found[0]["username"] != "rita" || found[1]["username"] != "maria" {
			t.Fatalf("search: %d %s", r.Status, r.Body)
		}
		if r := admin.Do("GET", "/api/v1/users/username/contains/%25", nil); strings.TrimSpace(string(r.Body)) != "[]" {
			t.Fatalf("search for %%: %s", r.Body)
		}
		if r := admin.Do("GET", "/api/v1/users/username/contains/zzz", nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != "[]" {
			t.Fatalf("search without match: %d %s", r.Status, r.Body)
		}

		// Look-ups: admins get Endurain's UserRead or null; a regular user only
		// whether the value is free.
		if r := admin.Do("GET", "/api/v1/users/username/RITA", nil); r.Status != 200 || r.JSON(t)["id"] != rita["id"] || strings.Contains(string(r.Body), "argon2") {
			t.Fatalf("admin username look-up: %d %s", r.Status, r.Body)
		}
		if r := admin.Do("GET", "/api/v1/users/email/rita@example.com", nil); r.Status != 200 || r.JSON(t)["username"] != "rita" {
			t.Fatalf("admin email look-up: %d %s", r.Status, r.Body)
		}
		if r := admin.Do("GET", "/api/v1/users/username/nobody", nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != "null" {
			t.Fatalf("admin look-up of nobody: %d %s", r.Status, r.Body)
		}
		maria := e.NewClient("mobile")
		maria.MustLogin("maria")
		if r := maria.Do("GET", "/api/v1/users/username/rita", nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != `{"available":false}` {
			t.Fatalf("regular look-up of a taken name: %d %s", r.Status, r.Body)
		}
		if r := maria.Do("GET", "/api/v1/users/email/maria@example.com", nil); strings.TrimSpace(string(r.Body)) != "null" {
			t.Fatalf("regular look-up of one's own email: %s", r.Body)
		}
		for _, p := range []string{"/api/v1/users/username/contains/ri", "/api/v1/users/" + ritaID + "/approve", "/api/v1/users/" + ritaID, "/api/v1/users/" + ritaID + "/photo"} {
			method := map[bool]string{true: "GET", false: "PUT"}[strings.Contains(p, "contains")]
			if strings.HasSuffix(p, ritaID) || strings.HasSuffix(p, "photo") {
				method = "DELETE"
			}
			if r := maria.Do(method, p, nil); r.Status != 403 {
				t.Fatalf("regular user on %s %s: %d", method, p, r.Status)
			}
		}

		// Approval: a pending account cannot sign in (Endurain's "Inactive
		// user"), approving needs a verified email, then it can.
		mustExec(t, e.Store, `UPDATE users SET pending_admin_approval = TRUE, active = FALSE, email_verified = FALSE WHERE username = 'rita'`)
		if r := e.NewClient("web").Login("rita", httpapitest.Password); r.Status != 403 || r.Detail() != account.MsgPendingApprovalLogin {
			t.Fatalf("pending user signed in: %d %s", r.Status, r.Body)
		}
		if r := admin.Do("PUT", "/api/v1/users/"+ritaID+"/approve", nil); r.Status != 400 || r.Detail() != "User email is not verified" {
			t.Fatalf("approve unverified: %d %s", r.Status, r.Body)
		}
		mustExec(t, e.Store, `UPDATE users SET email_verified = TRUE WHERE username = 'rita'`)
		// Pending but active (not a state Endurain makes): still refused.
		mustExec(t, e.Store, `UPDATE users SET active = TRUE WHERE username = 'rita'`)
		if r := e.NewClient("mobile").Login("rita", httpapitest.Password); r.Status != 403 {
			t.Fatalf("pending but active user signed in: %d %s", r.Status, r.Body)
		}
		if r := admin.Do("PUT", "/api/v1/users/"+ritaID+"/approve", nil); r.Status != 200 || r.JSON(t)["message"] != "User ID "+ritaID+" approved successfully." {
			t.Fatalf("approve: %d %s", r.Status, r.Body)
		}
		if got := admin.Do("GET", "/api/v1/users/id/"+ritaID, nil).JSON(t); got["pending_admin_approval"] != false || got["active"] != true {
			t.Fatalf("after approval: %v", got)
		}
		ritaC := e.NewClient("web")
		ritaC.MustLogin("rita")
		if r := admin.Do("PUT", "/api/v1/users/999999/approve", nil); r.Status != 404 {
			t.Fatalf("approve unknown: %d %s", r.Status, r.Body)
		}

		// Photos: an admin sets and removes a user's photo under the profile
		// photo's checks; the photo is served to its owner and admins only.
		good := pngBytes(t, 32, 32)
		r = admin.Upload("/api/v1/users/"+ritaID+"/image", "file", "rita.png", good)
		var path string
		if json.Unmarshal(r.Body, &path); r.Status != 201 || path != "/app/backend/data/user_images/"+ritaID+".png" {
			t.Fatalf("admin upload: %d %s", r.Status, r.Body)
		}
		if r := admin.Upload("/api/v1/users/"+ritaID+"/image", "file", "x.png", append(append([]byte{}, good...), "<?php ?>"...)); r.Status != 400 {
			t.Fatalf("polyglot accepted: %d %s", r.Status, r.Body)
		}
		if r := admin.Upload("/api/v1/users/999999/image", "file", "x.png", good); r.Status != 404 {
			t.Fatalf("upload for unknown user: %d %s", r.Status, r.Body)
		}
		for who, c := range map[string]*httpapitest.Client{"owner": ritaC, "admin": admin} {
			img := c.Do("GET", "/user_images/"+ritaID+".png", nil)
			if _, err := png.Decode(bytes.NewReader(img.Body)); img.Status != 200 || err != nil {
				t.Fatalf("%s cannot see the photo: %d", who, img.Status)
			}
		}
		if r := maria.Do("GET", "/user_images/"+ritaID+".png", nil, "Authorization", "Bearer "+maria.Access); r.Status != 404 {
			t.Fatalf("another user sees the photo: %d", r.Status)
		}
		if r := admin.Do("DELETE", "/api/v1/users/"+ritaID+"/photo", nil); r.Status != 200 || r.Detail() != "User ID "+ritaID+" photo deleted successfully" {
			t.Fatalf("admin photo delete: %d %s", r.Status, r.Body)
		}
		if r := ritaC.Do("GET", "/user_images/"+ritaID+".png", nil); r.Status != 404 {
			t.Fatalf("photo still served after delete: %d", r.Status)
		}
		if got := admin.Do("GET", "/api/v1/users/id/"+ritaID, nil).JSON(t); got["photo_path"] != nil {
			t.Fatalf("photo_path after delete: %v", got["photo_path"])
		}
	})
}

// Username and email look-ups are throttled per user and per address.
func TestUsersAdmin_LookupThrottle(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("pia", false)
		e.CreateUser("quin", false)
		pia := e.NewClient("mobile")
		pia.MustLogin("pia")
		for i := 0; i < 30; i++ {
			if r := pia.Do("GET", "/api/v1/users/username/someone"+itoa(int64(i)), nil); r.Status != 200 {
				t.Fatalf("look-up %d: %d %s", i, r.Status, r.Body)
			}
		}
		r := pia.Do("GET", "/api/v1/users/email/x@example.com", nil)
		if r.Status != 429 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("31st look-up: %d %s", r.Status, r.Body)
		}
		// The same address is limited for another account too.
		quin := e.NewClient("mobile")
		quin.MustLogin("quin")
		if r := quin.Do("GET", "/api/v1/users/username/x", nil); r.Status != 429 {
			t.Fatalf("same address, other user: %d", r.Status)
		}
		e.Clock.Advance(time.Minute + time.Second)
		if r := quin.Do("GET", "/api/v1/users/username/x", nil); r.Status != 200 {
			t.Fatalf("after the window: %d %s", r.Status, r.Body)
		}
	})
}

// Deleting a user removes every row that references them and every file of
// theirs, and nothing of anyone else's; never oneself, never the last admin.
func TestUsersAdmin_Delete(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		ctx := context.Background()
		e := httpapitest.New(t, b)
		root := e.CreateUser("root", true)
		victim := e.CreateUser("vera", false)
		keeper := e.CreateUser("kim", false)
		for i, u := range []int64{victim.ID, keeper.ID} {
			if _, err := seed.Run(ctx, e.Store, e.Blobs, u, seed.Config{Activities: 3, Gear: 2, Seed: uint64(11 + i)}); err != nil {
				t.Fatal(err)
			}
		}
		vera := e.NewClient("mobile")
		vera.MustLogin("vera")
		enableMFA(t, e, vera)
		e.NewClient("web").Login("vera", "wrong") // a security event
		admin := e.NewClient("web")
		admin.MustLogin("root")

		tables := userTables(t, e.Store)
		children := []string{"activity_laps", "activity_sets", "activity_streams", "activity_workout_steps", "activity_media"}
		before, owned := map[string]int{}, map[string]int{}
		for _, tb := range tables {
			owned[tb] = count(t, e.Store, `SELECT COUNT(*) FROM `+tb+` WHERE user_id = $1`, victim.ID)
			before[tb] = count(t, e.Store, `SELECT COUNT(*) FROM `+tb)
		}
		childOwned := map[string]int{}
		for _, tb := range children {
			childOwned[tb] = count(t, e.Store, `SELECT COUNT(*) FROM `+tb+` WHERE activity_id IN (SELECT id FROM activities WHERE user_id = $1)`, victim.ID)
			before[tb] = count(t, e.Store, `SELECT COUNT(*) FROM `+tb)
		}
		before["session_tokens"] = count(t, e.Store, `SELECT COUNT(*) FROM session_tokens`)
		victimTokens := count(t, e.Store, `SELECT COUNT(*) FROM session_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = $1)`, victim.ID)
		for _, tb := range []string{"activities", "mfa_factors", "backup_codes", "sessions", "security_events", "gear", "users_goals", "health_weight"} {
			if count(t, e.Store, `SELECT COUNT(*) FROM `+tb+` WHERE user_id = $1`, victim.ID) == 0 {
				t.Fatalf("the fixture has no %s row for the victim", tb)
			}
		}
		if childOwned["activity_streams"] == 0 || childOwned["activity_laps"] == 0 || victimTokens == 0 {
			t.Fatalf("the fixture lacks activity parts or tokens: %v %d", childOwned, victimTokens)
		}
		filesDir := filepath.Join(b.DataDir, "files")
		allBefore := listFiles(t, filesDir)
		victimFiles := userFiles(t, e.Store, allBefore, victim.ID)
		keeperFiles := userFiles(t, e.Store, allBefore, keeper.ID)
		if len(victimFiles) < 3 || len(keeperFiles) < 3 {
			t.Fatalf("the fixture has too few files: %v %v", victimFiles, keeperFiles)
		}
		for _, k := range append(append([]string{}, victimFiles...), keeperFiles...) {
			if !allBefore[k] {
				t.Fatalf("fixture file %s is not on disk", k)
			}
		}

		// Refusals first: oneself, an unknown id, a bad id.
		if r := admin.Do("DELETE", "/api/v1/users/"+itoa(root.ID), nil); r.Status != 403 || r.Detail() != "You cannot delete your own account" {
			t.Fatalf("self delete: %d %s", r.Status, r.Body)
		}
		if r := admin.Do("DELETE", "/api/v1/users/999999", nil); r.Status != 404 {
			t.Fatalf("unknown: %d %s", r.Status, r.Body)
		}
		if r := admin.Do("DELETE", "/api/v1/users/abc", nil); r.Status != 422 {
			t.Fatalf("bad id: %d %s", r.Status, r.Body)
		}

		r := admin.Do("DELETE", "/api/v1/users/"+itoa(victim.ID), nil)
		if r.Status != 200 || r.Detail() != "User ID "+itoa(victim.ID)+" deleted successfully" {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		// No row references the user any more; everyone else's rows are intact
		// (the only row added is the admin's user_deleted event).
		for _, tb := range tables {
			if n := count(t, e.Store, `SELECT COUNT(*) FROM `+tb+` WHERE user_id = $1`, victim.ID); n != 0 {
				t.Errorf("%s still has %d rows of the deleted user", tb, n)
			}
			want := before[tb] - owned[tb]
			if tb == "security_events" {
				want++
			}
			if after := count(t, e.Store, `SELECT COUNT(*) FROM `+tb); after != want {
				t.Errorf("%s: %d rows after, want %d (before %d, the user's %d)", tb, after, want, before[tb], owned[tb])
			}
		}
		if n := count(t, e.Store, `SELECT COUNT(*) FROM users WHERE id = $1`, victim.ID); n != 0 {
			t.Fatal("the user row is still there")
		}
		for _, tb := range children {
			if after := count(t, e.Store, `SELECT COUNT(*) FROM `+tb); after != before[tb]-childOwned[tb] {
				t.Errorf("%s: %d rows after, want %d", tb, after, before[tb]-childOwned[tb])
			}
		}
		if after := count(t, e.Store, `SELECT COUNT(*) FROM session_tokens`); after != before["session_tokens"]-victimTokens {
			t.Errorf("session_tokens: %d after, want %d", after, before["session_tokens"]-victimTokens)
		}
		if n := count(t, e.Store, `SELECT COUNT(*) FROM security_events WHERE type = 'user_deleted' AND user_id = $1`, root.ID); n != 1 {
			t.Errorf("%d user_deleted events on the admin", n)
		}
		// Files: the victim's are gone, the keeper's are all there.
		allAfter := listFiles(t, filesDir)
		for _, k := range victimFiles {
			if allAfter[k] {
				t.Errorf("file %s of the deleted user is still on disk", k)
			}
		}
		for _, k := range keeperFiles {
			if !allAfter[k] {
				t.Errorf("file %s of another user was removed", k)
			}
		}
		if len(allAfter) != len(allBefore)-len(victimFiles) {
			t.Errorf("%d files after, want %d: before %v, after %v, victim's %v", len(allAfter), len(allBefore)-len(victimFiles), allBefore, allAfter, victimFiles)
		}
		if r := vera.Do("GET", "/api/v1/profile", nil); r.Status != 401 {
			t.Fatalf("the deleted user's session works: %d", r.Status)
		}

		// The last active admin cannot go: with a second admin, deleting the
		// first works; the second cannot delete themselves.
		if r := admin.Do("POST", "/api/v1/users", map[string]any{"username": "ada", "email": "ada@example.com", "name": "Ada", "password": httpapitest.Password, "access_type": 2}); r.Status != 201 {
			t.Fatalf("second admin: %d %s", r.Status, r.Body)
		}
		ada := e.NewClient("web")
		ada.MustLogin("ada")
		if r := ada.Do("DELETE", "/api/v1/users/"+itoa(root.ID), nil); r.Status != 200 {
			t.Fatalf("delete the other admin: %d %s", r.Status, r.Body)
		}
		if r := ada.Do("DELETE", "/api/v1/users/"+itoa(keeper.ID), nil); r.Status != 200 {
			t.Fatalf("delete keeper: %d %s", r.Status, r.Body)
		}
		if n := count(t, e.Store, `SELECT COUNT(*) FROM users WHERE access_type = 2 AND active`); n != 1 {
			t.Fatalf("%d active admins", n)
		}
	})
}

// The store refuses to delete the last active admin even when asked directly
// (two admins deleting each other at once end up here).
func TestStore_DeleteLastAdmin(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		root := e.CreateUser("root", true)
		_, err := e.Store.DeleteUser(context.Background(), root.ID)
		if err == nil || !strings.Contains(err.Error(), "Cannot delete the last active admin") {
			t.Fatalf("delete last admin: %v", err)
		}
		if n := count(t, e.Store, `SELECT COUNT(*) FROM users WHERE id = $1`, root.ID); n != 1 {
			t.Fatal("the refused deletion removed the admin")
		}
	})
}

func mustExec(t *testing.T, st *store.Store, q string, args ...any) {
	t.Helper()
	if _, err := st.DB().Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, st *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// userTables lists every table with a user_id column, from the database's own
// catalogue, so a table added later is covered without editing this test.
func userTables(t *testing.T, st *store.Store) []string {
	t.Helper()
	q := `SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND p.name = 'user_id' ORDER BY m.name`
	if st.Dialect() == store.Postgres {
		q = `SELECT table_name FROM information_schema.columns WHERE column_name = 'user_id' AND table_schema = current_schema() ORDER BY table_name`
	}
	rows, err := st.DB().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out = append(out, n)
	}
	if len(out) < 15 {
		t.Fatalf("only %d tables with user_id: %v", len(out), out)
	}
	return out
}

// userFiles lists the blob keys the database says belong to userID, and the
// photo files named after the user that are on disk.
func userFiles(t *testing.T, st *store.Store, onDisk map[string]bool, userID int64) []string {
	t.Helper()
	var out []string
	for _, ext := range []string{"png", "jpg"} {
		if k := "user_images/" + itoa(userID) + "." + ext; onDisk[k] {
			out = append(out, k)
		}
	}
	for _, q := range []string{
		`SELECT photo_path FROM users WHERE id = $1 AND photo_path IS NOT NULL`,
		`SELECT file_key FROM activities WHERE user_id = $1 AND file_key IS NOT NULL`,
		`SELECT t.media_path FROM activity_media t JOIN activities a ON a.id = t.activity_id WHERE a.user_id = $1`,
	} {
		rows, err := st.DB().Query(q, userID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k sql.NullString
			rows.Scan(&k)
			if !slices.Contains(out, k.String) {
				out = append(out, k.String)
			}
		}
		rows.Close()
	}
	return out
}

// listFiles returns every file under dir as a blob key.
func listFiles(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
