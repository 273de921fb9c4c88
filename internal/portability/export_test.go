package portability_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/seed"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

var clock = testkit.NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))

type fixture struct {
	st    *store.Store
	blobs *blob.Dir
	x     *portability.Exporter
}

func newFixture(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	blobs, err := blob.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	return &fixture{st: st, blobs: blobs, x: &portability.Exporter{Store: st, Blobs: blobs, Now: clock.Now, Version: "test"}}
}

// user creates a user with a password hash and seeds n activities for it.
func (f *fixture) user(t *testing.T, name string, n int, seedVal uint64) int64 {
	t.Helper()
	hash := "$argon2id$v=19$m=65536,t=3,p=4$c2VjcmV0c2FsdA$" + name + "PASSWORDHASHVALUE"
	u := &account.User{Name: name, Username: name, Email: name + "@example.com", PasswordHash: &hash,
		PreferredLanguage: "us", Gender: 1, Units: 1, AccessType: 1, Active: true, FirstDayOfWeek: 1,
		Currency: 1, CreatedAt: clock.Now(), UpdatedAt: clock.Now()}
	if err := f.st.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	_, err := seed.Run(context.Background(), f.st, f.blobs, u.ID, seed.Config{Activities: n, Seed: seedVal,
		MinDuration: 20 * time.Second, MaxDuration: 40 * time.Second, MediaEvery: 3, Batch: 7})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// archive is a read-back export: entries in order and their contents.
type archive struct {
	names []string
	data  map[string][]byte
	zr    *zip.Reader
}

func readArchive(t *testing.T, b []byte) *archive {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("archive does not open: %v", err)
	}
	a := &archive{data: map[string][]byte{}, zr: zr}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		d, err := io.ReadAll(rc) // checks the CRC at EOF
		rc.Close()
		if err != nil {
			t.Fatalf("entry %s: %v", f.Name, err)
		}
		a.names = append(a.names, f.Name)
		a.data[f.Name] = d
	}
	return a
}

func (a *archive) rows(t *testing.T, name string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	if err := json.Unmarshal(a.data[name], &rows); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rows
}

// keys returns the first object's keys of a JSON array, in order.
func keys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.Token() // [
	dec.Token() // {
	var out []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func export(t *testing.T, f *fixture, uid int64) ([]byte, portability.ExportStats) {
	t.Helper()
	var buf bytes.Buffer
	stats, err := f.x.Export(context.Background(), uid, &buf)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	return buf.Bytes(), stats
}

func TestExport_Layout(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		uid := f.user(t, "alice", 12, 7)
		addSecrets(t, st, uid)
		if _, err := st.DB().Exec(`UPDATE users SET photo_path = $1 WHERE id = $2`, "user_images/"+itoa(uid)+".png", uid); err != nil {
			t.Fatal(err)
		}
		f.x.ChunkSize = 5
		b, stats := export(t, f, uid)
		a := readArchive(t, b)
		unzipTest(t, b)

		// Entry order: data files in Endurain's order, then files, counts, manifest last.
		if a.names[len(a.names)-1] != "manifest.json" || a.names[len(a.names)-2] != "counts.json" {
			t.Fatalf("last entries = %v", a.names[len(a.names)-2:])
		}
		var dataNames []string
		for _, n := range a.names {
			if strings.HasPrefix(n, "data/") {
				dataNames = append(dataNames, n)
			}
		}
		golden(t, "entries.golden", strings.Join(dataNames, "\n")+"\n")
		var keyLines []string
		seen := map[string]bool{}
		for _, n := range dataNames {
			base := regexp.MustCompile(`_\d{3}\.json$`).ReplaceAllString(strings.TrimPrefix(n, "data/"), ".json")
			if !seen[base] {
				seen[base] = true
				keyLines = append(keyLines, base+": "+strings.Join(keys(t, a.data[n]), ","))
			}
		}
		golden(t, "keys.golden", strings.Join(keyLines, "\n")+"\n")
		for _, want := range []string{"data/activity_laps_000.json", "data/activity_streams_001.json",
			"data/activity_sets.json", "data/user_identity_providers.json", "activity_media/", "activity_files/",
			"user_images/" + itoa(uid) + ".png"} {
			found := false
			for _, n := range a.names {
				found = found || n == want || (strings.HasSuffix(want, "/") && strings.HasPrefix(n, want))
			}
			if !found {
				t.Errorf("no entry %s in %v", want, a.names)
			}
		}

		// Value formats.
		act := a.rows(t, "data/activities.json")
		checkFormat(t, "activity start_time", act[0]["start_time"], `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`)
		checkFormat(t, "activity created_at", act[0]["created_at"], `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`)
		checkFormat(t, "activity total_elapsed_time", act[0]["total_elapsed_time"], `^\d+\.\d{10}$`)
		if _, ok := act[0]["import_info"].(map[string]any); !ok {
			t.Errorf("import_info = %#v, want an object", act[0]["import_info"])
		}
		gears := a.rows(t, "data/gears.json")
		checkFormat(t, "gear created_at", gears[0]["created_at"], `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$`)
		checkFormat(t, "gear initial_kms", gears[0]["initial_kms"], `^\d+\.\d\d$`)
		hw := a.rows(t, "data/health_weight.json")
		checkFormat(t, "weight date", hw[0]["date"], `^\d{4}-\d\d-\d\d$`)
		checkFormat(t, "weight", hw[0]["weight"], `^\d+\.\d\d$`)
		if len(hw) != 365 {
			t.Errorf("health_weight rows = %d, want 365", len(hw))
		}
		laps := a.rows(t, "data/activity_laps_000.json")
		checkFormat(t, "lap start_time", laps[0]["start_time"], `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`)
		streams := a.rows(t, "data/activity_streams_000.json")
		wp, ok := streams[0]["stream_waypoints"].([]any)
		if !ok || len(wp) < 20 {
			t.Fatalf("stream_waypoints = %T len %d", streams[0]["stream_waypoints"], len(wp))
		}
		checkFormat(t, "waypoint time", wp[0].(map[string]any)["time"], `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`)
		user := a.rows(t, "data/user.json")
		if len(user) != 1 || user[0]["username"] != "alice" || user[0]["mfa_enabled"] != true || user[0]["mfa_secret"] != nil {
			t.Errorf("user.json = %v", user)
		}
		if _, ok := user[0]["password"]; ok {
			t.Error("user.json has a password key")
		}
		// Endurain's web app slices this absolute form (UserAvatarComponent.vue).
		if p := user[0]["photo_path"]; p != "/app/backend/data/user_images/"+itoa(uid)+".png" {
			t.Errorf("user.json photo_path = %v", p)
		}
		idp := a.rows(t, "data/user_identity_providers.json")
		if len(idp) != 1 || idp[0]["idp_slug"] != "keycloak" || idp[0]["idp_subject"] != "sub-123" ||
			idp[0]["user_id"] != float64(uid) || idp[0]["idp_id"] == nil || idp[0]["linked_at"] == nil {
			t.Errorf("user_identity_providers.json = %v", idp)
		}
		if v, ok := idp[0]["idp_refresh_token"]; !ok || v != nil {
			t.Errorf("idp_refresh_token = %v (present %v), want null", v, ok)
		}
		integ := a.rows(t, "data/user_integrations.json")
		for _, k := range []string{"strava_token", "strava_refresh_token", "strava_client_secret", "garminconnect_oauth2"} {
			if v, ok := integ[0][k]; !ok || v != nil {
				t.Errorf("user_integrations %s = %v (present %v), want null", k, v, ok)
			}
		}
		if !bytes.Contains(a.data["data/activities.json"], []byte(`", "`)) ||
			!bytes.Contains(a.data["data/activities.json"], []byte(`{"id": `)) {
			t.Error("activities.json not in Python json.dumps style")
		}

		checkCountsAndManifest(t, a, uid, stats)
	})
}

func checkCountsAndManifest(t *testing.T, a *archive, uid int64, stats portability.ExportStats) {
	t.Helper()
	var counts []map[string]int
	if err := json.Unmarshal(a.data["counts.json"], &counts); err != nil || len(counts) != 1 {
		t.Fatalf("counts.json: %v %s", err, a.data["counts.json"])
	}
	c := counts[0]
	records := map[string]int{}
	files := map[string]int{}
	for _, n := range a.names {
		switch {
		case strings.HasPrefix(n, "data/"):
			base := strings.TrimSuffix(strings.TrimPrefix(n, "data/"), ".json")
			rows := len(a.rows(t, n))
			if c[base] != rows {
				t.Errorf("counts[%s] = %d, file has %d rows", base, c[base], rows)
			}
			table := regexp.MustCompile(`_\d{3}$`).ReplaceAllString(base, "")
			records[table] += rows
		case strings.HasPrefix(n, "activity_files/"):
			files["activity_files"]++
		case strings.HasPrefix(n, "activity_media/"):
			files["media"]++
		case strings.HasPrefix(n, "user_images/"):
			files["user_images"]++
		}
	}
	for k, v := range files {
		if c[k] != v {
			t.Errorf("counts[%s] = %d, archive has %d", k, c[k], v)
		}
	}
	if c["counts"] != 1 || c["activity_laps"] != 0 || c["user"] != 1 {
		t.Errorf("counts = %v", c)
	}
	var m portability.Manifest
	if err := json.Unmarshal(a.data["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if m.UserID != uid || m.FormatVersion != portability.FormatVersion || m.TrailpassVersion != "test" ||
		m.ExportedAt != "2026-06-01T12:00:00Z" {
		t.Errorf("manifest header = %+v", m)
	}
	if len(m.Entries) != len(a.names)-1 {
		t.Fatalf("manifest lists %d entries, archive has %d besides it", len(m.Entries), len(a.names)-1)
	}
	for i, e := range m.Entries {
		d := a.data[a.names[i]]
		sum := sha256.Sum256(d)
		if e.Name != a.names[i] || e.Size != int64(len(d)) || e.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("manifest entry %d = %+v, archive has %s (%d bytes)", i, e, a.names[i], len(d))
		}
	}
	for k, v := range records {
		if m.Records[k] != v || stats.Records[k] != v {
			t.Errorf("records[%s] = %d (stats %d), archive has %d", k, m.Records[k], stats.Records[k], v)
		}
	}
	if stats.Entries != len(a.names) {
		t.Errorf("stats.Entries = %d, want %d", stats.Entries, len(a.names))
	}
}

func checkFormat(t *testing.T, what string, v any, re string) {
	t.Helper()
	s, ok := v.(string)
	if !ok || !regexp.MustCompile(re).MatchString(s) {
		t.Errorf("%s = %#v, want a string matching %s", what, v, re)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

func unzipTest(t *testing.T, b []byte) {
	t.Helper()
	if _, err := exec.LookPath("unzip"); err != nil {
		return
	}
	p := filepath.Join(t.TempDir(), "export.zip")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("unzip", "-tq", p).CombinedOutput(); err != nil {
		t.Fatalf("unzip -t: %v\n%s", err, out)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The user's secrets, planted directly so the test does not depend on the
// services that normally write them.
var secrets = []string{
	"PASSWORDHASHVALUE",
	"MFA-CIPHERTEXT-0123456789",
	"a3f1c0ffee5e551074a7b1e5e551074a7b1e5e551074a7b1e5e5510000000001",
	"BACKUP-CODE-HASH-42",
	"IDP-REFRESH-TOKEN-SECRET",
	"STRAVA-ACCESS-TOKEN-SECRET",
	"STRAVA-REFRESH-TOKEN-SECRET",
	"STRAVA-CLIENT-SECRET",
	"GARMIN-OAUTH2-ACCESS",
	"IDP-CLIENT-SECRET",
}

func addSecrets(t *testing.T, st *store.Store, uid int64) {
	t.Helper()
	now := any("2026-05-01T10:00:00.000000Z")
	if st.Dialect() == store.Postgres {
		now = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	}
	db := st.DB()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO mfa_factors (user_id, type, secret_ciphertext, created_at) VALUES ($1, 'totp', $2, $3)`, []any{uid, secrets[1], now}},
		{`INSERT INTO sessions (id, user_id, family_id, auth_method, ip_address, device_type, operating_system,
			operating_system_version, browser, browser_version, created_at, authenticated_at, last_active_at,
			expires_at, absolute_expires_at) VALUES ('s1', $1, 'f1', 'password', '127.0.0.1', 'pc', 'linux', '6',
			'firefox', '140', $2, $2, $2, $2, $2)`, []any{uid, now}},
		{`INSERT INTO session_tokens (token_hash, session_id, kind, created_at, expires_at) VALUES ($1, 's1', 'refresh', $2, $2)`, []any{secrets[2], now}},
		{`INSERT INTO backup_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)`, []any{uid, secrets[3], now}},
		{`INSERT INTO identity_providers (name, slug, client_id, client_secret, created_at, updated_at)
			VALUES ('Keycloak', 'keycloak', 'cid', $1, $2, $2)`, []any{secrets[9], now}},
		{`INSERT INTO users_identity_providers (user_id, idp_id, idp_subject, linked_at, last_login, idp_refresh_token)
			SELECT $1, id, 'sub-123', $2, $2, $3 FROM identity_providers WHERE slug = 'keycloak'`, []any{uid, now, secrets[4]}},
		{`UPDATE users_integrations SET strava_token = $2, strava_refresh_token = $3, strava_client_secret = $4,
			strava_client_id = 'cid', strava_token_expires_at = $5, garminconnect_oauth2 = $6 WHERE user_id = $1`,
			[]any{uid, secrets[5], secrets[6], secrets[7], now, `{"access_token": "` + secrets[8] + `"}`}},
	} {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
}

func TestExport_NoSecrets(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		uid := f.user(t, "bob", 4, 3)
		addSecrets(t, st, uid)
		b, _ := export(t, f, uid)
		a := readArchive(t, b)
		if len(a.names) < 10 {
			t.Fatalf("only %d entries", len(a.names))
		}
		for _, n := range a.names {
			for _, s := range secrets {
				if bytes.Contains(a.data[n], []byte(s)) {
					t.Errorf("entry %s contains secret %q", n, s)
				}
			}
		}
		// The planted values are really there, so the grep above can fail.
		var pw string
		if err := st.DB().QueryRow(`SELECT password FROM users WHERE id = $1`, uid).Scan(&pw); err != nil || !strings.Contains(pw, secrets[0]) {
			t.Fatalf("password hash not planted: %v %q", err, pw)
		}
	})
}

func TestExport_UserNotFound(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		var buf bytes.Buffer
		_, err := f.x.Export(context.Background(), 999, &buf)
		if account.ErrorCode(err) != account.ENOTFOUND || account.ErrorMessage(err) != "User not found" || buf.Len() != 0 {
			t.Fatalf("err = %v, wrote %d bytes", err, buf.Len())
		}
	})
}

func TestExport_ChunkNaming(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		uid := f.user(t, "carol", 3, 11)
		b, _ := export(t, f, uid) // default chunk of 62 rows: everything below one chunk
		a := readArchive(t, b)
		var got []string
		for _, n := range a.names {
			if strings.HasPrefix(n, "data/activity_laps") || strings.HasPrefix(n, "data/activity_streams") {
				got = append(got, n)
			}
		}
		sort.Strings(got)
		if strings.Join(got, " ") != "data/activity_laps.json data/activity_streams.json" {
			t.Errorf("chunk entries = %v", got)
		}
	})
}

func TestExport_Concurrent(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		u1 := f.user(t, "dave", 10, 1)
		u2 := f.user(t, "erin", 14, 2)
		var wg sync.WaitGroup
		out := make([][]byte, 2)
		errs := make([]error, 2)
		for i, uid := range []int64{u1, u2} {
			wg.Go(func() {
				var buf bytes.Buffer
				_, errs[i] = f.x.Export(context.Background(), uid, &buf)
				out[i] = buf.Bytes()
			})
		}
		wg.Wait()
		for i, uid := range []int64{u1, u2} {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			a := readArchive(t, out[i])
			if u := a.rows(t, "data/user.json"); u[0]["id"] != float64(uid) {
				t.Errorf("export %d is of user %v, want %d", i, u[0]["id"], uid)
			}
			if n := len(a.rows(t, "data/activities.json")); n != []int{10, 14}[i] {
				t.Errorf("export %d has %d activities", i, n)
			}
		}
	})
}

func TestExport_WhileEditing(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		uid := f.user(t, "frank", 20, 5)
		ctx, cancel := context.WithCancel(context.Background())
		var edits atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; ctx.Err() == nil; i++ {
				if _, err := seed.Run(ctx, st, f.blobs, uid, seed.Config{Activities: 1, ActivitiesOnly: true, Seed: uint64(100 + i),
					MinDuration: 10 * time.Second, MaxDuration: 10 * time.Second, MediaEvery: -1}); err == nil {
					edits.Add(1)
				}
				st.DB().ExecContext(ctx, `DELETE FROM activities WHERE id = (SELECT MIN(id) FROM activities WHERE user_id = $1)`, uid)
			}
		}()
		// Export until edits have run during at least two exports.
		for i, before := 0, int64(0); i < 200; i++ {
			b, _ := export(t, f, uid)
			a := readArchive(t, b)
			for _, n := range a.names {
				if strings.HasSuffix(n, ".json") && !json.Valid(a.data[n]) {
					t.Fatalf("%s is not valid JSON", n)
				}
			}
			unzipTest(t, b)
			if i >= 2 && edits.Load() > before+1 {
				break
			}
			if i == 0 {
				before = edits.Load()
			}
		}
		cancel()
		<-done
		if edits.Load() < 2 {
			t.Errorf("only %d edits ran during the exports", edits.Load())
		}
	})
}

var _ fitness.Store = (*store.Store)(nil)

// failAfter accepts n bytes, then fails like a client that went away.
type failAfter struct{ n int }

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, io.ErrClosedPipe
	}
	w.n -= len(p)
	return len(p), nil
}

func TestExport_MidStreamFailure(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		uid := f.user(t, "gina", 6, 8)
		if _, err := f.x.Export(context.Background(), uid, &failAfter{n: 4096}); !errors.Is(err, io.ErrClosedPipe) {
			t.Errorf("write failure: err = %v", err)
		}
		// A cancelled export stops with the context's error and leaves no
		// readable archive behind.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var buf bytes.Buffer
		if _, err := f.x.Export(ctx, uid, &buf); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: err = %v", err)
		}
		if _, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err == nil {
			t.Error("a cancelled export produced a readable archive")
		}
	})
}

// TestSeed_Deterministic: the same seed gives the same data, so two fresh
// databases export identical entries.
func TestSeed_Deterministic(t *testing.T) {
	var manifests [2]portability.Manifest
	for i := range manifests {
		f := newFixture(t, testkit.OpenStore(t, testkit.Backends(t)[0]))
		uid := f.user(t, "henry", 9, 21)
		b, _ := export(t, f, uid)
		a := readArchive(t, b)
		if err := json.Unmarshal(a.data["manifest.json"], &manifests[i]); err != nil {
			t.Fatal(err)
		}
	}
	m0, m1 := manifests[0].Entries, manifests[1].Entries
	if len(m0) != len(m1) || len(m0) < 20 {
		t.Fatalf("entries: %d and %d", len(m0), len(m1))
	}
	for i := range m0 {
		if m0[i] != m1[i] {
			t.Errorf("entry %d differs: %+v vs %+v", i, m0[i], m1[i])
		}
	}
}

// TestExport_ParallelSameBytes: compressing entries in parallel writes the
// very archive the sequential writer does, byte for byte, whatever the worker
// count and including entries too large to queue (written straight through).
func TestExport_ParallelSameBytes(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		uid := f.user(t, "hana", 40, 11)
		if _, err := f.blobs.Put(context.Background(), "user_images/"+itoa(uid)+".png", strings.NewReader(strings.Repeat("png!", 5000))); err != nil {
			t.Fatal(err)
		}
		run := func(workers, entryBuffer int) []byte {
			x := *f.x
			x.Workers, x.EntryBuffer = workers, entryBuffer
			var buf bytes.Buffer
			if _, err := x.Export(context.Background(), uid, &buf); err != nil {
				t.Fatalf("workers %d: %v", workers, err)
			}
			return buf.Bytes()
		}
		seq := run(1, 0)
		unzipTest(t, seq)
		if n := len(readArchive(t, seq).names); n < 20 {
			t.Fatalf("only %d entries: the seeded account is too small to test ordering", n)
		}
		for _, c := range []struct{ workers, entryBuffer int }{{0, 0}, {2, 0}, {4, 0}, {3, 4096}, {8, 1}} {
			if got := run(c.workers, c.entryBuffer); !bytes.Equal(got, seq) {
				t.Errorf("workers %d, entry buffer %d: archive differs from the sequential one (%d vs %d bytes)",
					c.workers, c.entryBuffer, len(got), len(seq))
			}
		}
	})
}

// TestExport_ParallelMidStreamFailure: a write failure at any point of a
// parallel export is reported, whether it hits a queued entry or one written
// straight through.
func TestExport_ParallelMidStreamFailure(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		uid := f.user(t, "ivan", 20, 12)
		full, _ := export(t, f, uid)
		for _, workers := range []int{2, 4} {
			for _, eb := range []int{0, 4096} {
				for _, n := range []int{0, 100, len(full) / 2, len(full) - 10} {
					x := *f.x
					x.Workers, x.EntryBuffer = workers, eb
					if _, err := x.Export(context.Background(), uid, &failAfter{n: n}); !errors.Is(err, io.ErrClosedPipe) {
						t.Errorf("workers %d, entry buffer %d, fail after %d: err = %v", workers, eb, n, err)
					}
				}
			}
		}
	})
}

// cancelAfter cancels the export's context once n bytes have been written,
// like a client whose request is abandoned mid-download.
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
}

func (w *cancelAfter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		w.cancel()
	}
	return len(p), nil
}

// exportGoroutines lists the stacks of running goroutines the exporter
// started (compression workers, page reads).
func exportGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "portability.(*exportRun)") || strings.Contains(g, "portability.(*job)") {
			out = append(out, g)
		}
	}
	return out
}

// TestExport_NoGoroutineLeft: however an export ends (a write failure at
// any point, a cancelled context, success), the goroutines it started end
// with it.
func TestExport_NoGoroutineLeft(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		uid := f.user(t, "jules", 30, 13)
		full, _ := export(t, f, uid)
		check := func(what string) {
			t.Helper()
			// A goroutine that has signalled its end may still be returning:
			// give it a moment, then report the ones still there.
			var left []string
			for range 100 {
				if left = exportGoroutines(); len(left) == 0 {
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Errorf("%s: %d export goroutines left, the first:\n%s", what, len(left), left[0])
		}
		check("after a complete export")
		for _, workers := range []int{1, 2, 4} {
			for _, eb := range []int{0, 4096} {
				x := *f.x
				x.Workers, x.EntryBuffer = workers, eb
				for _, n := range []int{0, 100, len(full) / 3, len(full) / 2, len(full) - 10} {
					if _, err := x.Export(context.Background(), uid, &failAfter{n: n}); !errors.Is(err, io.ErrClosedPipe) {
						t.Errorf("workers %d, entry buffer %d, fail after %d: err = %v", workers, eb, n, err)
					}
					check(fmt.Sprintf("workers %d, entry buffer %d, write failing after %d bytes", workers, eb, n))
					if n > len(full)/2 {
						continue // cancelled while writing the end: it may well finish
					}
					ctx, cancel := context.WithCancel(context.Background())
					_, err := x.Export(ctx, uid, &cancelAfter{n: n, cancel: cancel})
					cancel()
					if !errors.Is(err, context.Canceled) {
						t.Errorf("workers %d, entry buffer %d, cancelled after %d: err = %v", workers, eb, n, err)
					}
					check(fmt.Sprintf("workers %d, entry buffer %d, cancelled after %d bytes", workers, eb, n))
				}
			}
		}
	})
}
