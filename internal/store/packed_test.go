package store_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// Stream samples are kept compressed, and the export gets the text back
// whichever way a value was written: by an import that packed it first, by a
// writer that did not (the store packs it), or as text by an older version.
// A stored value that does not unpack fails the read; it is never exported as
// it is.
func TestStore_StreamSamplesPacked(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := createUser(t, s, "packer")
		samples := `[{"time": "2025-03-01T08:00:00", "hr": 120}` + strings.Repeat(`, {"time": "2025-03-01T08:00:01", "hr": 121}`, 500) + `]`
		err := s.CreateActivities(ctx, u.ID, []*fitness.ActivityBundle{{
			Activity: hourActivity(time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)),
			Streams:  []fitness.Stream{{StreamType: fitness.StreamHR, Waypoints: json.RawMessage(samples)}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		var kind string
		var size int
		if err := s.DB().QueryRowContext(ctx, typeOfSamples(s)).Scan(&kind, &size); err != nil {
			t.Fatal(err)
		}
		packed := s.PackJSON([]byte(samples))
		if want := map[store.Dialect]string{store.SQLite: "blob", store.Postgres: "bytea"}[s.Dialect()]; kind != want || size*5 > len(samples) || size != len(packed) {
			t.Errorf("the samples are kept as %s of %d bytes (text %d, PackJSON %d); want a compressed %s", kind, size, len(samples), len(packed), want)
		}
		if got := exportedSamples(t, s, u.ID); len(got) != 1 || got[0] != samples {
			t.Fatalf("exported samples differ from what was written (%d rows)", len(got))
		}
		// Text written by a version before packing reads as it is (on
		// PostgreSQL migration 00017 turned it into its bytes).
		var old any = `[{"hr": 99}]` // SQLite: TEXT
		if s.Dialect() == store.Postgres {
			old = []byte(`[{"hr": 99}]`)
		}
		if _, err := s.DB().ExecContext(ctx, `UPDATE activity_streams SET stream_waypoints = $1`, old); err != nil {
			t.Fatal(err)
		}
		if got := exportedSamples(t, s, u.ID); got[0] != `[{"hr": 99}]` {
			t.Fatalf("text samples read as %q", got[0])
		}
		// A damaged frame is an error, not an entry.
		damaged := append([]byte(nil), packed...)
		damaged[len(damaged)/2] ^= 0xff
		if _, err := s.DB().ExecContext(ctx, `UPDATE activity_streams SET stream_waypoints = $1`, damaged); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ExportPage(ctx, fitness.ActivityStreams, fitness.PageQuery{UserID: u.ID, Limit: 10}); err == nil {
			t.Fatal("a damaged packed value was read without an error")
		}
	})
}

func typeOfSamples(s *store.Store) string {
	if s.Dialect() == store.SQLite {
		return `SELECT typeof(stream_waypoints), length(stream_waypoints) FROM activity_streams`
	}
	return `SELECT pg_typeof(stream_waypoints)::text, octet_length(stream_waypoints) FROM activity_streams`
}

func exportedSamples(t *testing.T, s *store.Store, userID int64) []string {
	t.Helper()
	rows, err := s.ExportPage(context.Background(), fitness.ActivityStreams, fitness.PageQuery{UserID: userID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	d := fitness.Describe(fitness.ActivityStreams)
	var out []string
	for _, r := range rows {
		out = append(out, string(r.Values[d.Index("stream_waypoints")].(json.RawMessage)))
	}
	return out
}
