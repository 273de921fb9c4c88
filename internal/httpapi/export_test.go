package httpapi_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"

	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/seed"
	"github.com/trailpass/trailpass/internal/testkit"
)

func TestExport_HTTP(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		u := e.CreateUser("xena", false)
		if _, err := seed.Run(context.Background(), e.Store, e.Blobs, u.ID, seed.Config{Activities: 3, Gear: 2, Seed: 7}); err != nil {
			t.Fatal(err)
		}
		if r := e.NewClient("web").Do("GET", "/api/v1/profile/export", nil); r.Status != 401 {
			t.Fatalf("anonymous export: %d", r.Status)
		}
		c := e.NewClient("web")
		c.MustLogin("xena")
		secret, codes := enableMFA(t, e, c)
		r := c.Do("GET", "/api/v1/profile/export", nil)
		if r.Status != 200 || r.Header.Get("Content-Type") != "application/zip" ||
			r.Header.Get("Content-Disposition") != "attachment; filename=user_"+itoa(u.ID)+"_export.zip" {
			t.Fatalf("%d %v %.200s", r.Status, r.Header, r.Body)
		}
		m, err := portability.Verify(bytes.NewReader(r.Body), int64(len(r.Body)))
		if err != nil {
			t.Fatalf("archive does not verify: %v", err)
		}
		if m.UserID != u.ID {
			t.Fatalf("manifest user %d", m.UserID)
		}
		for _, leak := range append([]string{secret, c.Cookie("endurain_access_token"), c.Cookie("endurain_refresh_token")}, codes...) {
			if bytes.Contains(r.Body, []byte(leak)) {
				t.Fatalf("export contains a secret %q", leak)
			}
		}
		if strings.Contains(e.Logs.String(), secret) {
			t.Fatal("log contains the MFA secret")
		}
		var n int
		e.Store.DB().QueryRow(`SELECT COUNT(*) FROM security_events WHERE type = 'export'`).Scan(&n)
		if n != 1 {
			t.Fatalf("%d export events", n)
		}
	})
}
