package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// Events page by id, newest first, per user; pruning drops only old events; a
// User-Agent longer than its column is cut on a character boundary.
func TestStore_SecurityEventsPageAndPrune(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		var ids [2]int64
		for i, u := range []string{"a", "b"} {
			if _, err := st.DB().ExecContext(ctx, `INSERT INTO users (name, username, email, created_at, updated_at) VALUES ($1, $1, $2, $3, $3)`,
				u, u+"@example.com", now.Format("2006-01-02T15:04:05.000000Z")); err != nil {
				t.Fatal(err)
			}
			st.DB().QueryRowContext(ctx, `SELECT id FROM users WHERE username = $1`, u).Scan(&ids[i])
		}
		record := func(uid int64, typ string, at time.Time, ua string) int64 {
			t.Helper()
			e := &account.SecurityEvent{UserID: &uid, Type: typ, UserAgent: ua, CreatedAt: at}
			if err := st.RecordSecurityEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
			return e.ID
		}
		old := record(ids[0], account.EventLogin, now.Add(-100*24*time.Hour), "")
		var mine []int64
		for i := range 5 {
			mine = append(mine, record(ids[0], account.EventLogin, now.Add(time.Duration(i)*time.Minute), strings.Repeat("é", 300)))
			record(ids[1], account.EventLogin, now, "")
		}
		page, err := st.ListSecurityEventsBefore(ctx, ids[0], 0, 2)
		if err != nil || len(page) != 2 || page[0].ID != mine[4] || page[1].ID != mine[3] {
			t.Fatalf("first page %v %v", page, err)
		}
		if got := page[0].UserAgent; len(got) != 500 || !strings.HasPrefix(got, "éé") {
			t.Errorf("user agent kept %d bytes", len(got))
		}
		page, _ = st.ListSecurityEventsBefore(ctx, ids[0], mine[3], 10)
		if len(page) != 4 || page[0].ID != mine[2] || page[3].ID != old {
			t.Fatalf("second page %d events", len(page))
		}
		for _, e := range page {
			if *e.UserID != ids[0] {
				t.Fatalf("another user's event %d", e.ID)
			}
		}
		if prev, err := st.LastSecurityEventBefore(ctx, ids[0], account.EventLogin, mine[1]); err != nil || prev.ID != mine[0] {
			t.Fatalf("last before: %v %v", prev, err)
		}
		if _, err := st.LastSecurityEventBefore(ctx, ids[0], account.EventLogin, old); account.ErrorCode(err) != account.ENOTFOUND {
			t.Fatalf("nothing before the first: %v", err)
		}
		n, err := st.DeleteSecurityEventsBefore(ctx, now.Add(-90*24*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("pruned %d, %v", n, err)
		}
		if page, _ := st.ListSecurityEventsBefore(ctx, ids[0], 0, 100); len(page) != 5 {
			t.Fatalf("%d events left, want 5", len(page))
		}
	})
}
