package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/testkit"
)

// Media names as Endurain writes them: "<activity id>_<uploader's file name>",
// spaces, brackets, upper-case extension and an accent included.
var endurainMediaNames = []string{"IMG 2041 (1).JPG", "Café au lac.jpg"}

func testImage(t *testing.T, c color.Color, asPNG bool) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 3, 3))
	img.Set(1, 1, c)
	var buf bytes.Buffer
	var err error
	if asPNG {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// endurainMediaArchive is shaped as Endurain v0.16.2 writes it: absolute
// media_path and photo_path, Endurain's identity-provider columns, counts.json,
// no manifest.
func endurainMediaArchive(t *testing.T, media map[string][]byte, photo []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, b []byte) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	add("data/activities.json", []byte(`[{"id": 101, "user_id": 9, "name": "Lake loop", "distance": 5000, "activity_type": 1, "start_time": "2024-06-01T07:00:00", "end_time": "2024-06-01T07:30:00", "timezone": "Europe/Paris", "total_elapsed_time": "1800.0000000000", "total_timer_time": "1800.0000000000", "visibility": 0}]`))
	var rows []string
	for i, n := range endurainMediaNames {
		p, _ := json.Marshal("/app/backend/data/activity_media/101_" + n)
		rows = append(rows, `{"id": `+itoa(int64(i+1))+`, "activity_id": 101, "media_path": `+string(p)+`, "media_type": 1}`)
	}
	add("data/activity_media.json", []byte("["+strings.Join(rows, ", ")+"]"))
	add("data/user.json", []byte(`[{"id": 9, "name": "Runner", "username": "runner", "email": "r@example.com", "preferred_language": "us", "gender": 1, "units": 1, "access_type": 1, "photo_path": "/app/backend/data/user_images/9.png", "active": true, "first_day_of_week": 1, "currency": 1}]`))
	add("data/user_identity_providers.json", []byte(`[{"id": 1, "user_id": 9, "idp_id": 2, "idp_subject": "abc", "linked_at": "2024-01-01 00:00:00", "last_login": null, "idp_refresh_token": "gAAAA", "idp_access_token_expires_at": null, "idp_refresh_token_updated_at": null}]`))
	add("activity_files/101.FIT", []byte("\x0e\x10\x43\x08FIT-data"))
	for _, n := range endurainMediaNames {
		add("activity_media/101_"+n, media[n])
	}
	add("user_images/9.png", photo)
	add("counts.json", []byte(`[{"media": 2, "activity_files": 1, "activities": 1, "activity_media": 2, "user": 1}]`))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// exportFiles downloads the caller's export and returns its entries' content.
func exportFiles(t *testing.T, c *httpapitest.Client) (map[string][]byte, []byte) {
	t.Helper()
	r := c.Do("GET", "/api/v1/profile/export", nil)
	if r.Status != 200 {
		t.Fatalf("export: %d %.300s", r.Status, r.Body)
	}
	zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out, r.Body
}

// An archive as Endurain writes it, with media named by their uploaders,
// imports over HTTP; the next export gives every media file back under its
// name with its bytes, and that export imports again.
func TestImportHTTP_EndurainMediaNames(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b, withLimits(portability.Limits{}))
		u := e.CreateUser("ana", false)
		c := e.NewClient("web")
		c.MustLogin("ana")
		media := map[string][]byte{
			endurainMediaNames[0]: testImage(t, color.RGBA{200, 10, 10, 255}, false),
			// A PNG under a .jpg name: Endurain never checks, so neither do we.
			endurainMediaNames[1]: testImage(t, color.RGBA{10, 200, 10, 255}, true),
		}
		photo := testImage(t, color.RGBA{10, 10, 200, 255}, true)

		r := uploadArchive(t, c, "/api/v1/profile/import", endurainMediaArchive(t, media, photo))
		if r.Status != 200 {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
		imp := r.JSON(t)["imported"].(map[string]any)
		if imp["media"] != float64(2) || imp["activity_media"] != float64(2) || imp["activity_files"] != float64(1) ||
			imp["user_images"] != float64(1) {
			t.Fatalf("imported = %v", imp)
		}
		acts, err := e.Store.ExportPage(context.Background(), fitness.Activities, fitness.PageQuery{UserID: u.ID, Limit: 10})
		if err != nil || len(acts) != 1 {
			t.Fatalf("activities: %v %d", err, len(acts))
		}
		newID := acts[0].Cursor.ID
		// Files live under keys the server chose, never under the uploader's name.
		for _, n := range endurainMediaNames {
			key := fitness.MediaKey(newID, n)
			if strings.ContainsAny(key, " é()") {
				t.Fatalf("blob key %q carries the uploader's name", key)
			}
			if _, err := e.Blobs.Size(context.Background(), key); err != nil {
				t.Fatalf("media %q not stored under %q: %v", n, key, err)
			}
		}

		files, archive := exportFiles(t, c)
		for _, n := range endurainMediaNames {
			name := "activity_media/" + itoa(newID) + "_" + n
			got, ok := files[name]
			if !ok {
				t.Fatalf("export lacks %q", name)
			}
			if !bytes.Equal(got, media[n]) {
				t.Fatalf("%q: exported bytes differ", name)
			}
		}
		var rows []map[string]any
		if err := json.Unmarshal(files["data/activity_media.json"], &rows); err != nil || len(rows) != 2 {
			t.Fatalf("activity_media.json: %v %s", err, files["data/activity_media.json"])
		}
		for i, n := range endurainMediaNames {
			if rows[i]["media_path"] != "activity_media/"+itoa(newID)+"_"+n {
				t.Errorf("media_path = %v", rows[i]["media_path"])
			}
		}
		var user []map[string]any
		json.Unmarshal(files["data/user.json"], &user)
		if len(user) != 1 || user[0]["photo_path"] != "/app/backend/data/user_images/"+itoa(u.ID)+".png" {
			t.Fatalf("user.json photo_path = %v", user)
		}
		if !bytes.Equal(files["user_images/"+itoa(u.ID)+".png"], photo) {
			t.Fatal("photo bytes differ")
		}
		if !bytes.Equal(files["activity_files/"+itoa(newID)+".fit"], []byte("\x0e\x10\x43\x08FIT-data")) {
			t.Fatalf("activity file: %v", files)
		}
		if _, err := portability.Verify(bytes.NewReader(archive), int64(len(archive))); err != nil {
			t.Fatalf("export does not verify: %v", err)
		}

		// Trailpass's own export, with those names, imports into another account.
		e.CreateUser("bea", false)
		c2 := e.NewClient("web")
		c2.MustLogin("bea")
		r = uploadArchive(t, c2, "/api/v1/profile/import", archive)
		if r.Status != 200 || r.JSON(t)["imported"].(map[string]any)["media"] != float64(2) {
			t.Fatalf("re-import: %d %s", r.Status, r.Body)
		}
		files2, _ := exportFiles(t, c2)
		found := 0
		for name, b := range files2 {
			for _, n := range endurainMediaNames {
				if strings.HasPrefix(name, "activity_media/") && strings.HasSuffix(name, "_"+n) && bytes.Equal(b, media[n]) {
					found++
				}
			}
		}
		if found != 2 {
			t.Fatalf("second export has %d of the 2 media", found)
		}

		// A media name Endurain could not have written is a 400, and nothing changes.
		bad := endurainMediaArchive(t, map[string][]byte{endurainMediaNames[0]: media[endurainMediaNames[0]],
			endurainMediaNames[1]: media[endurainMediaNames[1]]}, photo)
		bad = bytes.Replace(bad, []byte("Caf\xc3\xa9 au lac.jpg"), []byte("Caf\xc3\xa9 a\\ lac.jpg"), -1)
		if r := uploadArchive(t, c, "/api/v1/profile/import", bad); r.Status != 400 || !strings.Contains(r.Detail(), "backslash") {
			t.Fatalf("backslash: %d %s", r.Status, r.Body)
		}
		if n := countActivities(t, e, u.ID); n != 1 {
			t.Fatalf("activities after refused import = %d", n)
		}
	})
}
