package httpapi_test

import (
	"encoding/json"
	"testing"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/profile"
	"github.com/trailpass/trailpass/internal/seed"
	"github.com/trailpass/trailpass/internal/testkit"
)

func TestAccountSummary(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		finn := e.CreateUser("finn", false)
		e.CreateUser("gina", false)
		res, err := seed.Run(t.Context(), e.Store, e.Blobs, finn.ID, seed.Config{Activities: 12, Gear: 2, Seed: 5, Years: 2})
		if err != nil {
			t.Fatal(err)
		}
		// The seed stores a profile photo without pointing the account at it.
		if _, err := e.Store.DB().Exec(`UPDATE users SET photo_path = $1 WHERE id = $2`, profile.PhotoKey(finn.ID, "png"), finn.ID); err != nil {
			t.Fatal(err)
		}
		var files int64
		e.Store.DB().QueryRow(`SELECT COUNT(*) FROM activities WHERE user_id = $1 AND file_key IS NOT NULL`, finn.ID).Scan(&files)
		c := e.NewClient("web")
		c.MustLogin("finn")
		r := c.Do("GET", "/api/v1/profile/summary", nil)
		var sum profile.AccountSummary
		if r.Status != 200 || json.Unmarshal(r.Body, &sum) != nil {
			t.Fatalf("summary: %d %s", r.Status, r.Body)
		}
		want := profile.AccountCounts{Activities: int64(res.Activities), Laps: int64(res.Laps), Streams: int64(res.Streams),
			Gear: int64(res.Gear), Weights: int64(res.Weights), Goals: int64(res.Goals), Photos: int64(res.Media), Files: files}
		if sum.Counts != want {
			t.Errorf("counts %+v, want %+v", sum.Counts, want)
		}
		if sum.FileBytes != res.FileBytes || !sum.ProfilePhoto || files == 0 {
			t.Errorf("file bytes %d, seed wrote %d", sum.FileBytes, res.FileBytes)
		}
		if sum.FirstActivity == nil || sum.LastActivity == nil || !sum.FirstActivity.Before(*sum.LastActivity) {
			t.Fatalf("range %v – %v", sum.FirstActivity, sum.LastActivity)
		}
		var total int64
		for i, m := range sum.ActivitiesPerMonth {
			total += m.Activities
			if i == 0 && m.Month != sum.FirstActivity.UTC().Format("2006-01") || i == len(sum.ActivitiesPerMonth)-1 && m.Month != sum.LastActivity.UTC().Format("2006-01") {
				t.Errorf("month %d is %s (range %s – %s)", i, m.Month, sum.FirstActivity, sum.LastActivity)
			}
		}
		if total != int64(res.Activities) || len(sum.ActivitiesPerMonth) < 12 {
			t.Errorf("%d activities over %d months", total, len(sum.ActivitiesPerMonth))
		}

		// Another account holds nothing of finn's.
		g := e.NewClient("mobile")
		g.MustLogin("gina")
		r = g.Do("GET", "/api/v1/profile/summary", nil)
		var empty profile.AccountSummary
		if json.Unmarshal(r.Body, &empty) != nil || empty.Counts != (profile.AccountCounts{}) || empty.FileBytes != 0 ||
			empty.FirstActivity != nil || len(empty.ActivitiesPerMonth) != 0 || string(r.Body) == "" {
			t.Errorf("empty account: %s", r.Body)
		}
		if r := e.NewClient("web").Do("GET", "/api/v1/profile/summary", nil); r.Status != 401 {
			t.Errorf("anonymous: %d", r.Status)
		}
	})
}
