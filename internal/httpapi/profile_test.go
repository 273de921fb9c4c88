package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/testkit"
)

// webAppProfileBody is what Endurain's web app sends to PUT /profile.
func webAppProfileBody(id int64, username string) map[string]any {
	return map[string]any{"id": id, "username": username, "name": "Ana Runner", "email": username + "@example.com",
		"city": "Porto", "birthdate": "1990-04-02", "gender": 2, "units": 1, "currency": 1, "height": 170,
		"max_heart_rate": 190, "preferred_language": "pt", "first_day_of_week": 1, "access_type": 1,
		"photo_path": nil, "active": true}
}

func TestProfile_UpdateIgnoresPrivilegedFields(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		u := e.CreateUser("ana", false)
		c := e.NewClient("web")
		c.MustLogin("ana")
		body := webAppProfileBody(u.ID, "ANA")
		body["id"] = u.ID + 100
		body["access_type"] = 2
		body["active"] = false
		body["mfa_enabled"] = false
		body["email_verified"] = true
		body["mfa_secret"] = "gAAAAAB-injected"
		r := c.Do("PUT", "/api/v1/profile", body)
		if r.Status != 200 || r.Detail() != "User ID "+itoa(u.ID)+" updated successfully" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		got := c.Do("GET", "/api/v1/profile", nil).JSON(t)
		if got["id"] != float64(u.ID) || got["access_type"] != float64(1) || got["active"] != true || got["email_verified"] != false {
			t.Fatalf("privileged field changed: %v", got)
		}
		if got["username"] != "ana" || got["city"] != "Porto" || got["height"] != float64(170) || got["preferred_language"] != "pt" {
			t.Fatalf("editable field not applied: %v", got)
		}
		// Validation: every bad field is named; a taken email is 409.
		bad := webAppProfileBody(u.ID, "ana")
		bad["gender"], bad["units"], bad["email"] = 9, 7, "not-an-email"
		r = c.Do("PUT", "/api/v1/profile", bad)
		if r.Status != 422 || !strings.Contains(string(r.Body), `"gender"`) || !strings.Contains(string(r.Body), `"units"`) || !strings.Contains(string(r.Body), `"email"`) {
			t.Fatalf("422: %d %s", r.Status, r.Body)
		}
		e.CreateUser("bob", false)
		taken := webAppProfileBody(u.ID, "ana")
		taken["email"] = "bob@example.com"
		if r := c.Do("PUT", "/api/v1/profile", taken); r.Status != 409 {
			t.Fatalf("taken email: %d %s", r.Status, r.Body)
		}
		// Uniqueness checks reveal only availability.
		if r := c.Do("GET", "/api/v1/users/username/bob", nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != `{"available":false}` {
			t.Fatalf("taken username: %d %s", r.Status, r.Body)
		}
		if r := c.Do("GET", "/api/v1/users/email/free@example.com", nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != "null" {
			t.Fatalf("free email: %d %s", r.Status, r.Body)
		}
		if r := c.Do("GET", "/api/v1/users/username/ana", nil); strings.TrimSpace(string(r.Body)) != "null" {
			t.Fatalf("own username: %s", r.Body)
		}
	})
}

// No profile route answers with a password, MFA secret or token field.
func TestProfile_NoSecretsInAnyResponse(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("sam", false)
		c := e.NewClient("web")
		c.MustLogin("sam")
		secret, codes := enableMFA(t, e, c)
		routes := []string{"/api/v1/profile", "/api/v1/profile/sessions", "/api/v1/profile/mfa/status",
			"/api/v1/profile/mfa/backup-codes/status", "/api/v1/profile/default_gear", "/api/v1/profile/goals",
			"/api/v1/profile/idp", "/api/v1/gears", "/api/v1/idp", "/api/v1/public/server_settings"}
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, val := range x {
					lk := strings.ToLower(k)
					if lk == "password" || lk == "mfa_secret" || strings.Contains(lk, "token") || strings.Contains(lk, "secret") || strings.Contains(lk, "hash") {
						t.Errorf("%s: field %q", path, k)
					}
					walk(path, val)
				}
			case []any:
				for _, val := range x {
					walk(path, val)
				}
			}
		}
		for _, route := range routes {
			r := c.Do("GET", route, nil)
			if r.Status != 200 {
				t.Fatalf("%s: %d %s", route, r.Status, r.Body)
			}
			var v any
			if err := json.Unmarshal(r.Body, &v); err != nil {
				t.Fatalf("%s: %v", route, err)
			}
			walk(route, v)
			for _, s := range append([]string{secret, c.Cookie("endurain_access_token"), c.Cookie("endurain_refresh_token")}, codes...) {
				if strings.Contains(string(r.Body), s) {
					t.Errorf("%s leaks a secret value", route)
				}
			}
		}
	})
}

func TestProfile_PasswordChange(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		e.CreateUser("tom", false)
		c := e.NewClient("web")
		c.MustLogin("tom")
		phone := e.NewClient("mobile")
		phone.MustLogin("tom")
		e.Clock.Advance(11 * time.Minute)
		c.RefreshNow()
		r := c.Do("PUT", "/api/v1/profile/password", map[string]string{"password": "Brand!New9pass"})
		if r.Status != 403 || r.Detail() == "" {
			t.Fatalf("stale session without current password: %d %s", r.Status, r.Body)
		}
		// Endurain rejects a weak password with 422 and a FastAPI list (was 400).
		wantWeakPassword(t, c.Do("PUT", "/api/v1/profile/password", map[string]string{"password": "weak", "current_password": httpapitest.Password}))
		r = c.Do("PUT", "/api/v1/profile/password", map[string]string{"password": "Brand!New9pass", "current_password": httpapitest.Password})
		if r.Status != 200 || !strings.Contains(string(r.Body), "1 other session") {
			t.Fatalf("change: %d %s", r.Status, r.Body)
		}
		if r := phone.Do("GET", "/api/v1/profile", nil); r.Status != 401 {
			t.Fatalf("other session survived: %d", r.Status)
		}
		if r := c.Do("GET", "/api/v1/profile", nil); r.Status != 200 {
			t.Fatalf("caller signed out: %d", r.Status)
		}
		if r := e.NewClient("web").Login("tom", "Brand!New9pass"); r.Status != 200 {
			t.Fatalf("new password: %d", r.Status)
		}
		var n int
		e.Store.DB().QueryRow(`SELECT COUNT(*) FROM security_events WHERE type = 'password_changed'`).Scan(&n)
		if n != 1 {
			t.Fatalf("%d password_changed events", n)
		}
	})
}

func pngBytes(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{200, 10, 10, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestProfile_Photo(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		u := e.CreateUser("una", false)
		c := e.NewClient("web")
		c.MustLogin("una")
		good := pngBytes(t, 64, 48)
		r := c.Upload("/api/v1/profile/image", "file", "me.png", good)
		var path string
		if err := json.Unmarshal(r.Body, &path); r.Status != 201 || err != nil || path != "/app/backend/data/user_images/"+itoa(u.ID)+".png" {
			t.Fatalf("upload: %d %s", r.Status, r.Body)
		}
		img := c.Do("GET", "/user_images/"+itoa(u.ID)+".png", nil)
		if img.Status != 200 || img.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("serve: %d", img.Status)
		}
		if _, err := png.Decode(bytes.NewReader(img.Body)); err != nil {
			t.Fatalf("served photo is not a PNG: %v", err)
		}
		if r := e.NewClient("web").Do("GET", "/user_images/"+itoa(u.ID)+".png", nil); r.Status != 401 {
			t.Fatalf("photo served without sign-in: %d", r.Status)
		}
		for name, data := range map[string][]byte{
			"polyglot.png": append(append([]byte{}, good...), []byte("<?php system($_GET['c']); ?>")...),
			"gif.png":      []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"),
			"empty.png":    {},
			"huge.png":     append(append([]byte{}, good...), make([]byte, 21<<20)...),
		} {
			r := c.Upload("/api/v1/profile/image", "file", name, data)
			if r.Status != 400 || r.Detail() == "" {
				t.Errorf("%s: %d %.200s", name, r.Status, r.Body)
			}
		}
		if img2 := c.Do("GET", "/user_images/"+itoa(u.ID)+".png", nil); !bytes.Equal(img2.Body, img.Body) {
			t.Fatal("a rejected upload changed the current photo")
		}
		// Editing the profile never touches the photo (Endurain deleted it).
		body := webAppProfileBody(u.ID, "una")
		body["photo_path"] = path
		c.Do("PUT", "/api/v1/profile", body)
		if c.Do("GET", "/user_images/"+itoa(u.ID)+".png", nil).Status != 200 {
			t.Fatal("profile edit removed the photo")
		}
		if r := c.Do("PUT", "/api/v1/profile/photo", nil); r.Status != 200 {
			t.Fatalf("delete: %d", r.Status)
		}
		if r := c.Do("GET", "/api/v1/profile", nil); r.JSON(t)["photo_path"] != nil {
			t.Fatalf("photo_path after delete: %s", r.Body)
		}
	})
}

func TestProfile_SettingsAndForeignIDs(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		ana := e.CreateUser("ana", false)
		bob := e.CreateUser("bob", false)
		ctx := context.Background()
		var anaGear, bobGear int64
		now := e.Clock.Now()
		for _, g := range []struct {
			uid int64
			out *int64
		}{{ana.ID, &anaGear}, {bob.ID, &bobGear}} {
			ts := any(now.UTC())
			if e.Store.Dialect() == "sqlite" {
				ts = now.UTC().Format("2006-01-02T15:04:05.000000Z")
			}
			if err := e.Store.DB().QueryRowContext(ctx, `INSERT INTO gear (user_id, nickname, gear_type, created_at, active, initial_kms) VALUES ($1, 'bike', 1, $2, TRUE, '0') RETURNING id`, g.uid, ts).Scan(g.out); err != nil {
				t.Fatal(err)
			}
		}
		c := e.NewClient("web")
		c.MustLogin("ana")
		// Privacy ignores id/user_id in the body.
		r := c.Do("PUT", "/api/v1/profile/privacy", map[string]any{"id": 99, "user_id": bob.ID, "default_activity_visibility": 2, "hide_activity_hr": true})
		if r.Status != 200 || !strings.HasPrefix(string(r.Body), `["User ID `) {
			t.Fatalf("privacy: %d %s", r.Status, r.Body)
		}
		if me := c.Do("GET", "/api/v1/profile", nil).JSON(t); me["default_activity_visibility"] != float64(2) || me["hide_activity_hr"] != true {
			t.Fatalf("privacy not applied: %v", me)
		}
		bc := e.NewClient("web")
		bc.MustLogin("bob")
		if me := bc.Do("GET", "/api/v1/profile", nil).JSON(t); me["hide_activity_hr"] != false {
			t.Fatal("privacy update reached another user")
		}
		// Default gear: own gear fine, another user's gear is 422 naming the field.
		if r := c.Do("PUT", "/api/v1/profile/default_gear", map[string]any{"run_gear_id": anaGear}); r.Status != 200 {
			t.Fatalf("own gear: %d %s", r.Status, r.Body)
		}
		r = c.Do("PUT", "/api/v1/profile/default_gear", map[string]any{"ride_gear_id": bobGear})
		if r.Status != 422 || !strings.Contains(string(r.Body), "ride_gear_id") {
			t.Fatalf("foreign gear: %d %s", r.Status, r.Body)
		}
		if g := c.Do("GET", "/api/v1/gears", nil); g.Status != 200 || strings.Count(string(g.Body), `"id"`) != 1 {
			t.Fatalf("gears: %s", g.Body)
		}
		// Goals: validation, duplicates, foreign ids.
		goal := map[string]any{"interval": "weekly", "activity_type": 1, "goal_type": 3, "goal_distance": 30000}
		r = c.Do("POST", "/api/v1/profile/goals", goal)
		if r.Status != 201 {
			t.Fatalf("goal: %d %s", r.Status, r.Body)
		}
		goalID := int64(r.JSON(t)["id"].(float64))
		if r := c.Do("POST", "/api/v1/profile/goals", goal); r.Status != 409 {
			t.Fatalf("duplicate goal: %d", r.Status)
		}
		if r := c.Do("POST", "/api/v1/profile/goals", map[string]any{"interval": "weekly", "activity_type": 1, "goal_type": 3, "goal_calories": 5}); r.Status != 422 {
			t.Fatalf("mismatched goal field: %d %s", r.Status, r.Body)
		}
		if r := bc.Do("PUT", "/api/v1/profile/goals/"+itoa(goalID), goal); r.Status != 404 {
			t.Fatalf("foreign goal update: %d", r.Status)
		}
		if r := bc.Do("DELETE", "/api/v1/profile/goals/"+itoa(goalID), nil); r.Status != 404 {
			t.Fatalf("foreign goal delete: %d", r.Status)
		}
		if r := c.Do("DELETE", "/api/v1/profile/goals/"+itoa(goalID), nil); r.Status != 200 {
			t.Fatalf("own goal delete: %d", r.Status)
		}
		if r := c.Do("PUT", "/api/v1/activities/visibility/2", nil); r.Status != 200 {
			t.Fatalf("visibility: %d %s", r.Status, r.Body)
		}
		if r := c.Do("PUT", "/api/v1/activities/visibility/7", nil); r.Status != 422 {
			t.Fatalf("bad visibility: %d %s", r.Status, r.Body)
		}
		if r := c.Do("GET", "/api/v1/public/server_settings", nil, "X-Client-Type", ""); r.Status != 200 || r.JSON(t)["local_login_enabled"] != true {
			t.Fatalf("server settings: %d %s", r.Status, r.Body)
		}
	})
}

// wantWeakPassword checks Endurain's answer to a password that breaks the
// policy: 422 with detail [{"loc": ["body", "password"], "msg": ..., "type":
// "value_error"}], and the password itself nowhere in the body.
func wantWeakPassword(t *testing.T, r *httpapitest.Response) {
	t.Helper()
	var body struct {
		Detail []struct {
			Loc  []string `json:"loc"`
			Msg  string   `json:"msg"`
			Type string   `json:"type"`
		} `json:"detail"`
	}
	if r.Status != 422 || json.Unmarshal(r.Body, &body) != nil || len(body.Detail) != 1 {
		t.Fatalf("weak password: %d %s", r.Status, r.Body)
	}
	d := body.Detail[0]
	if strings.Join(d.Loc, ".") != "body.password" || d.Msg != account.PasswordPolicy || d.Type != "value_error" || strings.Contains(string(r.Body), "weak") {
		t.Fatalf("weak password: %s", r.Body)
	}
}
