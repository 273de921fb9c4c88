package portability_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// mediaArchive holds activity 1, one media row per name (Endurain's absolute
// media_path) and one file entry per name.
func mediaArchive(t testing.TB, names ...string) []byte {
	var rows []string
	ents := []zent{{name: "data/activities.json", data: []byte(okActivity)}}
	for _, n := range names {
		p, _ := json.Marshal("/app/backend/data/activity_media/1_" + n)
		rows = append(rows, `{"activity_id": 1, "media_path": `+string(p)+`, "media_type": 1}`)
		ents = append(ents, zent{name: "activity_media/1_" + n, data: jpegBytes, stored: true})
	}
	ents = append(ents, zent{name: "data/activity_media.json", data: []byte("[" + strings.Join(rows, ", ") + "]")})
	return buildZip(t, ents...)
}

func TestImport_MediaNamesRefused(t *testing.T) {
	long := strings.Repeat("é", 126) + ".jpg" // 256 bytes
	cases := map[string][]byte{
		"NFC collision":     mediaArchive(t, "Caf\u00e9.jpg", "Cafe\u0301.jpg"),
		"case collision":    mediaArchive(t, "IMG 1.JPG", "img 1.jpg"),
		"full case folding": mediaArchive(t, "Straße.jpg", "STRASSE.jpg"),
		"accent and case":   mediaArchive(t, "Café.jpg", "CAFE\u0301.JPG"),
		"C0 control":        mediaArchive(t, "a\x01b.jpg"),
		"newline":           mediaArchive(t, "a\nb.jpg"),
		"DEL":               mediaArchive(t, "a\x7fb.jpg"),
		"C1 control":        mediaArchive(t, "a\u0085b.jpg"),
		"overlong":          mediaArchive(t, long),
		"backslash":         mediaArchive(t, `a\b.jpg`),
		"slash":             mediaArchive(t, "a/b.jpg"),
		"NUL":               mediaArchive(t, "a\x00b.jpg"),
		"not UTF-8":         mediaArchive(t, "caf\xe9.jpg"),
		"empty name":        buildZip(t, zent{name: "activity_media/1_", data: jpegBytes}),
		"row naming a file twice": buildZip(t, zent{name: "data/activities.json", data: []byte(okActivity)},
			zent{name: "data/activity_media.json", data: []byte(`[{"activity_id": 1, "media_path": "activity_media/1_A.jpg"}, {"activity_id": 1, "media_path": "/x/1_a.JPG"}]`)},
			zent{name: "activity_media/1_A.jpg", data: jpegBytes}),
		"row with a control character": buildZip(t, zent{name: "data/activities.json", data: []byte(okActivity)},
			zent{name: "data/activity_media.json", data: []byte(`[{"activity_id": 1, "media_path": "activity_media/1_a\u0007.jpg"}]`)}),
		"not an image": buildZip(t, zent{name: "data/activities.json", data: []byte(okActivity)},
			zent{name: "activity_media/1_x.jpg", data: []byte("GIF89a not a photo")}),
	}
	// Each is refused for its own reason, not another.
	why := map[string]string{"NFC collision": "appears twice", "case collision": "appears twice",
		"full case folding": "appears twice", "accent and case": "appears twice", "C0 control": "control character",
		"newline": "control character", "DEL": "control character", "C1 control": "control character",
		"overlong": "longer than 255 bytes", "backslash": "backslash", "slash": "slash", "NUL": "control character",
		"not UTF-8": "not UTF-8", "empty name": "no file name", "row naming a file twice": "another row already names",
		"row with a control character": "without slashes or control characters", "not an image": "not a PNG or JPEG"}
	if n := len(long); n != 256 {
		t.Fatalf("long name is %d bytes", n)
	}
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newImpEnv(t, st, portability.Limits{})
		uid := e.seeded(t, "victim", 2)
		before := snapshot(t, e, uid)
		for name, b := range cases {
			t.Run(name, func(t *testing.T) {
				_, err := e.importBytes(uid, b, portability.Options{})
				if err == nil {
					t.Fatal("accepted")
				}
				if code := account.ErrorCode(err); code != account.EINVALID || !strings.Contains(account.ErrorMessage(err), why[name]) {
					t.Fatalf("code = %s (%v), want %s naming %q", code, err, account.EINVALID, why[name])
				}
				if after := snapshot(t, e, uid); !reflect.DeepEqual(before, after) {
					t.Fatal("the account changed")
				}
			})
		}
	})
}

// Names Endurain writes that an older allowlist refused: spaces, brackets,
// dots, colons, accents, any case, up to 255 bytes; other extensions are
// skipped as Endurain skips them.
func TestImport_MediaNamesAccepted(t *testing.T) {
	names := []string{"IMG 2041 (1).JPG", "Café au lac.jpg", "Summit... at 12:30.jpeg", "ünïcødé 😀.PNG",
		strings.Repeat("x", 251) + ".jpg", "-leading dash.jpg", ".jpg"}
	if len(names[4]) != 255 {
		t.Fatal("255-byte name is not 255 bytes")
	}
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newImpEnv(t, st, portability.Limits{})
		uid := e.newUser(t, "dora")
		b := mediaArchive(t, append(names, "clip.mp4", "photo.HEIC")...)
		res, err := e.importBytes(uid, b, portability.Options{})
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		if res.Imported["media"] != len(names) || res.Imported["activity_media"] != len(names) ||
			res.Skipped["media"] != 2 || res.Skipped["activity_media"] != 2 {
			t.Fatalf("imported %v skipped %v", res.Imported, res.Skipped)
		}
		acts, _ := st.ExportPage(context.Background(), fitness.Activities, fitness.PageQuery{UserID: uid, Limit: 1})
		newID := acts[0].Cursor.ID
		var buf bytes.Buffer
		if _, err := e.x.Export(context.Background(), uid, &buf); err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]byte{}
		for _, f := range zr.File {
			rc, _ := f.Open()
			got[f.Name], _ = io.ReadAll(rc)
			rc.Close()
		}
		for _, n := range names {
			if b, ok := got["activity_media/"+itoa(newID)+"_"+n]; !ok || !bytes.Equal(b, jpegBytes) {
				t.Errorf("export lacks media %q", n)
			}
		}
		// The export imports again, names and all.
		res, err = e.importBytes(e.newUser(t, "eli"), buf.Bytes(), portability.Options{})
		if err != nil || res.Imported["media"] != len(names) {
			t.Fatalf("re-import: %v %v", err, res)
		}
	})
}

// Media keys are chosen by the server: a plain name keeps Endurain's form,
// anything else becomes a digest, distinct per name.
func TestMediaKey(t *testing.T) {
	if k := fitness.MediaKey(41, "sunrise.jpg"); k != "activity_media/41_sunrise.jpg" {
		t.Errorf("plain name: %q", k)
	}
	seen := map[string]bool{}
	for _, n := range []string{"IMG 1.JPG", "img 1.jpg", "../../etc/passwd", "a\\b.png", "Café.jpeg", "x..jpg"} {
		k := fitness.MediaKey(41, n)
		if seen[k] || strings.ContainsAny(k[len("activity_media/"):], " /\\é") || strings.Contains(k, "..") ||
			!strings.HasPrefix(k, "activity_media/41_h") {
			t.Errorf("MediaKey(%q) = %q", n, k)
		}
		seen[k] = true
	}
}

// Both photo_path forms (trailpass's former "user_images/9.jpg", Endurain's
// absolute path) and both identity-provider row shapes (trailpass's former
// idp_slug rows, Endurain's columns) import.
func TestImport_PhotoPathAndIdPForms(t *testing.T) {
	forms := map[string][2]string{
		"trailpass": {"user_images/9.jpg", `[{"idp_slug": "google", "idp_subject": "123", "linked_at": "2024-01-01 00:00:00", "last_login": null, "idp_access_token_expires_at": null, "idp_refresh_token_updated_at": null}]`},
		"endurain":  {"/app/backend/data/user_images/9.jpg", `[{"id": 1, "user_id": 9, "idp_id": 2, "idp_subject": "123", "linked_at": "2024-01-01 00:00:00", "last_login": null, "idp_refresh_token": null, "idp_access_token_expires_at": null, "idp_refresh_token_updated_at": null, "idp_slug": "google"}]`},
	}
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newImpEnv(t, st, portability.Limits{})
		for name, f := range forms {
			t.Run(name, func(t *testing.T) {
				uid := e.newUser(t, "u"+name)
				user := `[{"id": 9, "name": "Nine", "photo_path": "` + f[0] + `", "units": 1}]`
				res, err := e.importBytes(uid, buildZip(t, zent{name: "data/user.json", data: []byte(user)},
					zent{name: "data/user_identity_providers.json", data: []byte(f[1])},
					zent{name: "user_images/9.jpg", data: jpegBytes, stored: true}), portability.Options{})
				if err != nil {
					t.Fatalf("import: %v", err)
				}
				if res.Imported["user_images"] != 1 || res.Imported["user"] != 1 || res.Skipped["user_identity_providers"] != 1 {
					t.Fatalf("imported %v skipped %v", res.Imported, res.Skipped)
				}
				u, err := st.FindUserByID(context.Background(), uid)
				if err != nil || u.PhotoPath == nil || *u.PhotoPath != "user_images/"+itoa(uid)+".jpg" {
					t.Fatalf("photo_path = %v (%v)", u.PhotoPath, err)
				}
			})
		}
	})
}
