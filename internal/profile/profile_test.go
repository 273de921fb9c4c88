package profile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// webAppBody is the body the web app's profile modal sends, with every
// privileged field set to what an attacker would want.
func webAppBody(u *account.User, edits map[string]any) []byte {
	body := map[string]any{
		"id": u.ID + 1000, "username": u.Username, "name": u.Name, "email": u.Email, "city": nil,
		"birthdate": nil, "gender": 1, "units": 1, "currency": 1, "height": nil, "max_heart_rate": nil,
		"preferred_language": "us", "first_day_of_week": 1, "access_type": account.AccessAdmin,
		"photo_path": "user_images/evil.png", "active": false, "mfa_enabled": false, "mfa_secret": "x",
		"email_verified": true, "pending_admin_approval": true, "external_auth_count": 9,
	}
	for k, v := range edits {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	return b
}

func TestService_UpdateProfile(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := newProfileEnv(t, s)

		t.Run("PrivilegedFieldsIgnored", func(t *testing.T) {
			u := e.user(t, "regular", "")
			photo := "user_images/1.png"
			if err := s.SetPhotoPath(ctx, u.ID, &photo); err != nil {
				t.Fatal(err)
			}
			e.exec(t, `INSERT INTO mfa_factors (user_id, type, secret_ciphertext, created_at) VALUES ($1, 'totp', 'c', $2)`,
				u.ID, e.ts(e.clock.Now()))
			in, err := profile.DecodeUpdate(webAppBody(u, map[string]any{"name": "Reg Ular", "username": "ReGuLaR2",
				"city": "Porto", "birthdate": "1990-05-17", "height": 180}))
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.svc.UpdateProfile(ctx, account.Operator(), u.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != u.ID {
				t.Fatalf("returned id %d, want %d", got.ID, u.ID)
			}
			db := e.findUser(t, u.ID)
			if db.AccessType != account.AccessRegular || !db.Active || db.EmailVerified || db.PendingAdminApproval {
				t.Fatalf("privileged fields changed: %+v", db)
			}
			if db.PhotoPath == nil || *db.PhotoPath != photo {
				t.Fatalf("photo_path = %v, want %s", db.PhotoPath, photo)
			}
			if db.Name != "Reg Ular" || db.Username != "regular2" || *db.City != "Porto" || *db.Birthdate != "1990-05-17" || *db.Height != 180 {
				t.Fatalf("editable fields not applied: %+v", db)
			}
			if n := e.count(t, `SELECT COUNT(*) FROM users WHERE id = $1`, u.ID+1000); n != 0 {
				t.Fatal("a user row with the body's id appeared")
			}
			p, err := e.svc.GetProfile(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Links.MFAEnabled {
				t.Fatal("MFA was switched off by the profile edit")
			}
		})

		t.Run("EveryBadFieldReported", func(t *testing.T) {
			u := e.user(t, "badfields", "")
			in, err := profile.DecodeUpdate(webAppBody(u, map[string]any{
				"name": " ", "username": "no spaces", "email": "not-an-email", "birthdate": "17/05/1990",
				"gender": 4, "units": 3, "height": -1, "max_heart_rate": 400, "preferred_language": "xx",
				"first_day_of_week": 7, "currency": 0,
			}))
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.svc.UpdateProfile(ctx, account.Operator(), u.ID, in)
			ae := wantCode(t, err, account.EUNPROCESSABLE)
			wantFields(t, ae, "name", "username", "email", "birthdate", "gender", "units", "height",
				"max_heart_rate", "preferred_language", "first_day_of_week", "currency")
			if db := e.findUser(t, u.ID); db.Gender != 1 || db.Email != "badfields@example.com" {
				t.Fatalf("a rejected update was written: %+v", db)
			}
		})

		t.Run("WrongTypesReported", func(t *testing.T) {
			u := e.user(t, "wrongtypes", "")
			_, err := profile.DecodeUpdate(webAppBody(u, map[string]any{"gender": "female", "height": "tall", "name": nil}))
			wantFields(t, wantCode(t, err, account.EUNPROCESSABLE), "gender", "height", "name")
			_, err = profile.DecodeUpdate([]byte(`[1]`))
			wantFields(t, wantCode(t, err, account.EUNPROCESSABLE), "body")
		})

		t.Run("Conflict", func(t *testing.T) {
			e.user(t, "taken", "")
			u := e.user(t, "wantsname", "")
			for _, edit := range []map[string]any{{"username": "TAKEN"}, {"email": "Taken@Example.com"}} {
				in, err := profile.DecodeUpdate(webAppBody(u, edit))
				if err != nil {
					t.Fatal(err)
				}
				_, err = e.svc.UpdateProfile(ctx, account.Operator(), u.ID, in)
				ae := wantCode(t, err, account.ECONFLICT)
				if ae.Message != profile.MsgDuplicateUser {
					t.Fatalf("message = %q", ae.Message)
				}
			}
		})

		t.Run("HeightRecomputesBMI", func(t *testing.T) {
			u := e.user(t, "weighs", "")
			other := e.user(t, "otherweighs", "")
			for _, w := range []struct {
				uid    int64
				weight string
			}{{u.ID, "80.00"}, {u.ID, "72.5"}, {other.ID, "60"}} {
				e.exec(t, `INSERT INTO health_weight (user_id, date, weight, bmi) VALUES ($1, '2026-05-01', $2, '1.00')`, w.uid, w.weight)
			}
			bmis := func(uid int64) []string {
				rows, err := s.DB().QueryContext(ctx, `SELECT bmi FROM health_weight WHERE user_id = $1 ORDER BY id`, uid)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var out []string
				for rows.Next() {
					var b *string
					if err := rows.Scan(&b); err != nil {
						t.Fatal(err)
					}
					if b == nil {
						out = append(out, "NULL")
					} else {
						out = append(out, *b)
					}
				}
				return out
			}
			h := 180
			if _, err := e.svc.UpdateProfile(ctx, account.Operator(), u.ID, profile.Update{Height: profile.Nullable[int]{Set: true, Value: &h}}); err != nil {
				t.Fatal(err)
			}
			// 80 / 1.8² = 24.691…, 72.5 / 1.8² = 22.376…
			if got := fmt.Sprint(bmis(u.ID)); got != "[24.69 22.38]" {
				t.Fatalf("bmi = %s, want [24.69 22.38]", got)
			}
			if got := fmt.Sprint(bmis(other.ID)); got != "[1.00]" {
				t.Fatalf("another user's bmi changed: %s", got)
			}
			// An edit that keeps the height leaves BMIs alone.
			e.exec(t, `UPDATE health_weight SET bmi = '5.00' WHERE user_id = $1`, u.ID)
			name := "Weighs"
			if _, err := e.svc.UpdateProfile(ctx, account.Operator(), u.ID, profile.Update{Name: &name, Height: profile.Nullable[int]{Set: true, Value: &h}}); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(bmis(u.ID)); got != "[5.00 5.00]" {
				t.Fatalf("bmi = %s after an edit without a height change", got)
			}
			if _, err := e.svc.UpdateProfile(ctx, account.Operator(), u.ID, profile.Update{Height: profile.Nullable[int]{Set: true}}); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(bmis(u.ID)); got != "[NULL NULL]" {
				t.Fatalf("bmi = %s after clearing the height", got)
			}
		})

		t.Run("NotFound", func(t *testing.T) {
			name := "x"
			_, err := e.svc.UpdateProfile(ctx, account.Operator(), 999999, profile.Update{Name: &name})
			wantCode(t, err, account.ENOTFOUND)
		})
	})
}

func TestService_GetProfile(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := newProfileEnv(t, s)
		u := e.user(t, "reader", "Secret-pass1")
		e.exec(t, `UPDATE users_integrations SET strava_token = 'tok', strava_refresh_token = 'ref' WHERE user_id = $1`, u.ID)
		e.exec(t, `UPDATE users_privacy_settings SET hide_activity_map = $1, default_activity_visibility = 2 WHERE user_id = $2`, true, u.ID)
		p, err := e.svc.GetProfile(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(p.UserMe())
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		for _, k := range []string{"password", "mfa_secret", "strava_token", "strava_refresh_token", "access_token", "refresh_token"} {
			if _, ok := m[k]; ok {
				t.Errorf("UserMe has key %q: %s", k, b)
			}
		}
		want := map[string]any{"id": float64(u.ID), "username": "reader", "has_password": true, "mfa_enabled": false,
			"is_strava_linked": float64(1), "is_garminconnect_linked": float64(0), "hide_activity_map": true,
			"hide_activity_gear": false, "default_activity_visibility": float64(2), "access_type": float64(1)}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s = %v, want %v", k, m[k], v)
			}
		}
		if _, err := e.svc.GetProfile(ctx, 999999); account.ErrorCode(err) != account.ENOTFOUND {
			t.Fatalf("unknown user: %v", err)
		}
	})
}

func TestService_SmallReads(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := newProfileEnv(t, s)
		u := e.user(t, "someone", "")
		other := e.user(t, "another", "")

		t.Run("Availability", func(t *testing.T) {
			for _, c := range []struct {
				name string
				fn   func(context.Context, string) (bool, error)
				in   string
				want bool
			}{
				{"username taken", e.svc.UsernameAvailable, " SomeOne ", false},
				{"username free", e.svc.UsernameAvailable, "nobody", true},
				{"email taken", e.svc.EmailAvailable, "SOMEONE@example.com", false},
				{"email free", e.svc.EmailAvailable, "nobody@example.com", true},
			} {
				got, err := c.fn(ctx, c.in)
				if err != nil || got != c.want {
					t.Errorf("%s: got %v, %v; want %v", c.name, got, err, c.want)
				}
			}
		})

		t.Run("ListGear", func(t *testing.T) {
			id := e.gear(t, u.ID, "Bike")
			e.exec(t, `UPDATE gear SET purchase_value = '1200.5', brand = 'Trek' WHERE id = $1`, id)
			e.gear(t, other.ID, "Not mine")
			gs, err := e.svc.ListGear(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(gs) != 1 || gs[0].ID != id || gs[0].Nickname != "Bike" || gs[0].InitialKms != "0.00" ||
				gs[0].PurchaseValue == nil || *gs[0].PurchaseValue != "1200.50" || *gs[0].Brand != "Trek" || !gs[0].Active {
				t.Fatalf("gear = %+v", gs)
			}
			b, _ := json.Marshal(gs[0])
			var m map[string]any
			json.Unmarshal(b, &m)
			for _, k := range []string{"id", "brand", "model", "nickname", "gear_type", "user_id", "created_at", "active",
				"initial_kms", "purchase_value", "strava_gear_id", "garminconnect_gear_id"} {
				if _, ok := m[k]; !ok {
					t.Errorf("gear JSON lacks %q: %s", k, b)
				}
			}
		})

		t.Run("ActivitiesVisibility", func(t *testing.T) {
			now := e.ts(e.clock.Now())
			for _, uid := range []int64{u.ID, u.ID, other.ID} {
				e.exec(t, `INSERT INTO activities (user_id, distance, activity_type, start_time, end_time,
					total_elapsed_time, total_timer_time, created_at) VALUES ($1, 1000, 1, $2, $2, '60', '60', $2)`, uid, now)
			}
			if err := e.svc.SetActivitiesVisibility(ctx, u.ID, 2); err != nil {
				t.Fatal(err)
			}
			if n := e.count(t, `SELECT COUNT(*) FROM activities WHERE user_id = $1 AND visibility = 2`, u.ID); n != 2 {
				t.Fatalf("%d of the caller's activities private, want 2", n)
			}
			if n := e.count(t, `SELECT COUNT(*) FROM activities WHERE user_id = $1 AND visibility = 0`, other.ID); n != 1 {
				t.Fatal("another user's activity changed")
			}
			wantCode(t, e.svc.SetActivitiesVisibility(ctx, u.ID, 3), account.EUNPROCESSABLE)
		})
	})
}
