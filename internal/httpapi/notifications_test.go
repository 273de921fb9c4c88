package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/seed"
	"github.com/trailpass/trailpass/internal/testkit"
)

func TestNotifications(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		u := e.CreateUser("nia", false)
		e.CreateUser("oli", false)
		if _, err := seed.Run(context.Background(), e.Store, e.Blobs, u.ID, seed.Config{Activities: 2, Gear: 1, Seed: 5}); err != nil {
			t.Fatal(err)
		}
		c := e.NewClient("web")
		c.MustLogin("nia")
		r := c.Do("GET", "/api/v1/notifications/number", nil)
		var n int
		if jsonUnmarshal(r.Body, &n); r.Status != 200 || n == 0 {
			t.Fatalf("number: %d %s", r.Status, r.Body)
		}
		var page []map[string]any
		r = c.Do("GET", "/api/v1/notifications/page_number/1/num_records/100", nil)
		if jsonUnmarshal(r.Body, &page); r.Status != 200 || len(page) != n {
			t.Fatalf("page: %d %s", r.Status, r.Body)
		}
		id := itoa(int64(page[0]["id"].(float64)))
		other := e.NewClient("web")
		other.MustLogin("oli")
		if r := other.Do("GET", "/api/v1/notifications/number", nil); strings.TrimSpace(string(r.Body)) != "0" {
			t.Fatalf("another user sees notifications: %s", r.Body)
		}
		if r := other.Do("PUT", "/api/v1/notifications/"+id+"/mark_as_read", nil); r.Status != 404 {
			t.Fatalf("marking another user's notification: %d", r.Status)
		}
		if r := c.Do("PUT", "/api/v1/notifications/"+id+"/mark_as_read", nil); r.Status != 200 {
			t.Fatalf("mark read: %d %s", r.Status, r.Body)
		}
		if r := c.Do("GET", "/api/v1/notifications/page_number/0/num_records/10", nil); r.Status != 422 {
			t.Fatalf("page 0: %d", r.Status)
		}
	})
}
