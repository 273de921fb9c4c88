package portability_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/seed"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

var importClock = testkit.NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))

// impEnv is a store, a blob directory, an exporter and an importer over them.
type impEnv struct {
	st    *store.Store
	blobs *blob.Dir
	dir   string
	x     *portability.Exporter
	im    *portability.Importer
}

func newImpEnv(t testing.TB, st *store.Store, lim portability.Limits) *impEnv {
	t.Helper()
	dir := t.TempDir()
	blobs, err := blob.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	return &impEnv{st: st, blobs: blobs, dir: dir,
		x:  &portability.Exporter{Store: st, Blobs: blobs, Now: importClock.Now, Version: "test"},
		im: &portability.Importer{Store: st, Profiles: st, Blobs: blobs, Limits: lim, Now: importClock.Now, TempDir: t.TempDir()}}
}

func (e *impEnv) newUser(t testing.TB, name string) int64 {
	t.Helper()
	hash := "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$" + name
	u := &account.User{Name: name, Username: name, Email: name + "@example.com", PasswordHash: &hash,
		PreferredLanguage: "us", Gender: 1, Units: 1, AccessType: 1, Active: true, FirstDayOfWeek: 1,
		Currency: 1, CreatedAt: importClock.Now(), UpdatedAt: importClock.Now()}
	if err := e.st.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func (e *impEnv) seeded(t *testing.T, name string, n int) int64 {
	t.Helper()
	uid := e.newUser(t, name)
	_, err := seed.Run(context.Background(), e.st, e.blobs, uid, seed.Config{Activities: n, Seed: 7,
		MinDuration: 20 * time.Second, MaxDuration: 40 * time.Second, MediaEvery: 3, Batch: 7})
	if err != nil {
		t.Fatal(err)
	}
	return uid
}

func (e *impEnv) export(t *testing.T, uid int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := e.x.Export(context.Background(), uid, &buf); err != nil {
		t.Fatalf("export: %v", err)
	}
	return buf.Bytes()
}

func (e *impEnv) importBytes(uid int64, b []byte, opts portability.Options) (*portability.Result, error) {
	return e.im.Import(context.Background(), uid, bytes.NewReader(b), int64(len(b)), opts)
}

// idKeys hold ids or values derived from them, which differ between accounts.
var idKeys = map[string]bool{"id": true, "user_id": true, "activity_id": true, "gear_id": true,
	"media_path": true, "username": true, "email": true, "photo_path": true}

// normalized reads an archive into comparable form: data rows without ids (in
// order), counts, and the binary files in archive order.
func normalized(t *testing.T, b []byte) (map[string]any, [][]byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]any{}
	var files [][]byte
	for _, f := range zr.File {
		rc, _ := f.Open()
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case f.Name == "manifest.json":
		case strings.HasSuffix(f.Name, ".json"):
			var rows []map[string]any
			if err := json.Unmarshal(body, &rows); err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			for _, r := range rows {
				for k := range r {
					if idKeys[k] || strings.HasSuffix(k, "_gear_id") && k != "strava_gear_id" && k != "garminconnect_gear_id" {
						delete(r, k)
					}
				}
				if o, ok := r["options"].(map[string]any); ok {
					delete(o, "activity_id")
				}
			}
			data[f.Name] = rows
		default:
			files = append(files, body)
		}
	}
	return data, files
}

func TestImport_RoundTrip(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newImpEnv(t, st, portability.Limits{})
		src := e.seeded(t, "ann", 14)
		first := e.export(t, src)
		dst := e.newUser(t, "bob")
		res, err := e.importBytes(dst, first, portability.Options{})
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		if res.Imported["activities"] != 14 || res.Imported["gears"] != 3 || res.Imported["user_images"] != 1 {
			t.Fatalf("imported = %v", res.Imported)
		}
		second := e.export(t, dst)
		d1, f1 := normalized(t, first)
		d2, f2 := normalized(t, second)
		for name, rows := range d1 {
			if !reflect.DeepEqual(rows, d2[name]) {
				t.Errorf("%s differs after the round trip:\n got %v\nwant %v", name, d2[name], rows)
			}
		}
		if len(d1) != len(d2) {
			t.Errorf("entries: %d then %d", len(d1), len(d2))
		}
		if len(f1) != len(f2) || len(f1) == 0 {
			t.Fatalf("files: %d then %d", len(f1), len(f2))
		}
		for i := range f1 {
			if !bytes.Equal(f1[i], f2[i]) {
				t.Errorf("file %d differs", i)
			}
		}

		// The same archive again adds nothing and says what it skipped.
		before := e.export(t, dst)
		again, err := e.importBytes(dst, first, portability.Options{})
		if err != nil {
			t.Fatalf("second import: %v", err)
		}
		if again.Imported["activities"] != 0 || again.Skipped["activities"] != 14 || again.Skipped["gears"] != 3 ||
			again.Imported["activity_laps"] != 0 || again.Imported["notifications"] != 0 || again.Imported["user_goals"] != 0 {
			t.Fatalf("second import: imported %v skipped %v", again.Imported, again.Skipped)
		}
		db1, _ := normalized(t, before)
		db2, _ := normalized(t, e.export(t, dst))
		if !reflect.DeepEqual(db1, db2) {
			t.Fatal("the second import changed the account")
		}
	})
}

func TestImport_DryRunWritesNothing(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newImpEnv(t, st, portability.Limits{})
		archive := e.export(t, e.seeded(t, "ann", 5))
		dst := e.newUser(t, "bob")
		before := snapshot(t, e, dst)
		res, err := e.importBytes(dst, archive, portability.Options{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Imported["activities"] != 5 || !res.DryRun {
			t.Fatalf("dry run = %+v", res)
		}
		if after := snapshot(t, e, dst); !reflect.DeepEqual(before, after) {
			t.Fatal("a dry run changed the account")
		}
	})
}

// accountState is everything an import may touch: the user's exported data
// (ids included) and every file in the blob directory.
type accountState struct {
	Data  map[string]any
	Files map[string]string
}

func snapshot(t *testing.T, e *impEnv, uid int64) accountState {
	t.Helper()
	var buf bytes.Buffer
	if _, err := e.x.Export(context.Background(), uid, &buf); err != nil {
		t.Fatal(err)
	}
	zr, _ := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	s := accountState{Data: map[string]any{}, Files: map[string]string{}}
	for _, f := range zr.File {
		if f.Name == "manifest.json" {
			continue
		}
		rc, _ := f.Open()
		body, _ := io.ReadAll(rc)
		rc.Close()
		s.Data[f.Name] = string(body)
	}
	filepath.Walk(e.dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(e.dir, p)
			s.Files[rel] = string(b)
		}
		return nil
	})
	return s
}
