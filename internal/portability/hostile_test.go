package portability_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io/fs"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// zent is one entry of a hand-built archive.
type zent struct {
	name   string
	data   []byte
	stored bool
	mode   fs.FileMode
}

func buildZip(t testing.TB, ents ...zent) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range ents {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.stored {
			h.Method = zip.Store
		}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cdRecords returns the offsets of the central-directory records.
func cdRecords(b []byte) []int {
	var out []int
	for i := 0; i+4 <= len(b); i++ {
		if binary.LittleEndian.Uint32(b[i:]) == 0x02014b50 {
			out = append(out, i)
		}
	}
	return out
}

const okActivity = `[{"id": 1, "activity_type": 1, "start_time": "2024-05-01 07:00:00", "end_time": "2024-05-01 08:00:00", "distance": 1000}]`

func hostileCases(t testing.TB) map[string]struct {
	zip  func() []byte
	code string
} {
	return map[string]struct {
		zip  func() []byte
		code string
	}{
		"deflate bomb": {func() []byte {
			return buildZip(t, zent{name: "data/activities.json", data: make([]byte, 64<<20)})
		}, account.ETOOLARGE},
		"overlapping entries": {func() []byte {
			b := buildZip(t, zent{name: "data/gears.json", data: []byte(`[]`), stored: true},
				zent{name: "data/user_goals.json", data: []byte(`[]`), stored: true})
			recs := cdRecords(b)
			copy(b[recs[1]+42:], b[recs[0]+42:recs[0]+46]) // point the second record at the first's data
			return b
		}, account.EINVALID},
		"dot-dot name":  {func() []byte { return buildZip(t, zent{name: "../data/gears.json", data: []byte(`[]`)}) }, account.EINVALID},
		"absolute name": {func() []byte { return buildZip(t, zent{name: "/etc/passwd", data: []byte(`x`)}) }, account.EINVALID},
		"backslash":     {func() []byte { return buildZip(t, zent{name: `data\gears.json`, data: []byte(`[]`)}) }, account.EINVALID},
		"unknown name":  {func() []byte { return buildZip(t, zent{name: "data/evil.sh", data: []byte(`x`)}) }, account.EINVALID},
		"symlink": {func() []byte {
			return buildZip(t, zent{name: "data/gears.json", data: []byte(`/etc/passwd`), mode: fs.ModeSymlink | 0o777})
		}, account.EINVALID},
		"duplicate names": {func() []byte {
			return buildZip(t, zent{name: "data/gears.json", data: []byte(`[]`)}, zent{name: "data/gears.json", data: []byte(`[]`)})
		}, account.EINVALID},
		"case collision": {func() []byte {
			return buildZip(t, zent{name: "activity_files/1.fit", data: []byte(`a`)}, zent{name: "activity_files/1.FIT", data: []byte(`b`)})
		}, account.EINVALID},
		"size lie": {func() []byte {
			b := buildZip(t, zent{name: "data/activities.json", data: []byte(okActivity)})
			rec := cdRecords(b)[0]
			binary.LittleEndian.PutUint32(b[rec+24:], 10)
			return b
		}, account.EUNPROCESSABLE},
		"crc lie": {func() []byte {
			b := buildZip(t, zent{name: "data/activities.json", data: []byte(okActivity), stored: true})
			rec := cdRecords(b)[0]
			binary.LittleEndian.PutUint32(b[rec+16:], 12345)
			return b
		}, account.EUNPROCESSABLE},
		"nested zip": {func() []byte {
			inner := buildZip(t, zent{name: "x", data: []byte("y")})
			return buildZip(t, zent{name: "data/activities.json", data: []byte(okActivity)},
				zent{name: "activity_files/1.fit", data: inner, stored: true})
		}, account.EINVALID},
		"200,000 entries": {func() []byte {
			ents := make([]zent, 200_000)
			for i := range ents {
				ents[i] = zent{name: fmt.Sprintf("activity_files/%d.fit", i), stored: true}
			}
			return buildZip(t, ents...)
		}, account.ETOOLARGE},
		"50 MB JSON string": {func() []byte {
			s := `[{"id": 1, "activity_type": 1, "start_time": "2024-05-01 07:00:00", "name": "` + strings.Repeat("a", 50<<20) + `"}]`
			return buildZip(t, zent{name: "data/activities.json", data: []byte(s), stored: true})
		}, account.EINVALID},
		"JSON nested 100,000 deep": {func() []byte {
			return buildZip(t, zent{name: "data/activities.json", data: bytes.Repeat([]byte("["), 100_000)})
		}, account.EINVALID},
		"wrong JSON types": {func() []byte {
			return buildZip(t, zent{name: "data/activities.json", data: []byte(`[{"id": "one", "activity_type": 1, "start_time": "2024-05-01 07:00:00"}]`)})
		}, account.EINVALID},
		"goal breaking the API's rules": {func() []byte {
			return buildZip(t, zent{name: "data/user_goals.json", data: []byte(`[{"interval": "weekly", "activity_type": 1, "goal_type": 3, "goal_calories": 500}]`)})
		}, account.EINVALID},
		"bad enum": {func() []byte {
			return buildZip(t, zent{name: "data/activity_streams.json", data: []byte(`[{"activity_id": 1, "stream_type": 99, "stream_waypoints": []}]`)},
				zent{name: "data/activities.json", data: []byte(okActivity)})
		}, account.EINVALID},
		"dangling reference": {func() []byte {
			return buildZip(t, zent{name: "data/activities.json", data: []byte(okActivity)},
				zent{name: "data/activity_laps.json", data: []byte(`[{"activity_id": 2, "start_time": "2024-05-01 07:00:00"}]`)})
		}, account.EUNPROCESSABLE},
		"pixel bomb photo": {func() []byte {
			return buildZip(t, zent{name: "user_images/1.png", data: pngBomb(), stored: true})
		}, account.EINVALID},
		"database-breaking values": {func() []byte {
			return buildZip(t, zent{name: "data/activities.json", data: []byte(`[{"id": 1, "activity_type": 1, "start_time": "2024-05-01 07:00:00", "distance": 99999999999}]`)})
		}, account.EINVALID},
		"NUL in text": {func() []byte {
			return buildZip(t, zent{name: "data/activities.json", data: []byte(`[{"id": 1, "activity_type": 1, "start_time": "2024-05-01 07:00:00", "name": "a\u0000b"}]`)})
		}, account.EINVALID},
		"huge decimal": {func() []byte {
			return buildZip(t, zent{name: "data/activities.json", data: []byte(`[{"id": 1, "activity_type": 1, "start_time": "2024-05-01 07:00:00", "pace": "12345678901.5"}]`)})
		}, account.EINVALID},
		"not a zip":       {func() []byte { return []byte("PK\x03\x04 definitely not a zip archive") }, account.EINVALID},
		"trailing data":   {func() []byte { return buildZip(t, zent{name: "data/gears.json", data: []byte(`[] []`)}) }, account.EINVALID},
		"encrypted entry": {func() []byte { return encrypted(buildZip(t, zent{name: "data/gears.json", data: []byte(`[]`)})) }, account.EINVALID},
	}
}

// encrypted sets the encryption flag on every record.
func encrypted(b []byte) []byte {
	for _, rec := range cdRecords(b) {
		b[rec+8] |= 1
	}
	return b
}

func TestImport_HostileArchives(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newImpEnv(t, st, portability.Limits{})
		uid := e.seeded(t, "victim", 3)
		before := snapshot(t, e, uid)
		for name, c := range hostileCases(t) {
			t.Run(name, func(t *testing.T) {
				b := c.zip()
				var m0, m1 runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&m0)
				_, err := e.importBytes(uid, b, portability.Options{})
				runtime.ReadMemStats(&m1)
				if err == nil {
					t.Fatal("accepted")
				}
				if got := account.ErrorCode(err); got != c.code {
					t.Fatalf("code = %s (%v), want %s", got, err, c.code)
				}
				if msg := account.ErrorMessage(err); !strings.Contains(msg, "during profile data import") {
					t.Fatalf("message %q does not follow Endurain's", msg)
				}
				if name == "overlapping entries" && !strings.Contains(account.ErrorMessage(err), "overlap") {
					t.Fatalf("rejected for another reason: %v", err)
				}
				// Bounded: well under the archive's expanded size.
				if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 48<<20 {
					t.Errorf("allocated %d MiB", alloc>>20)
				}
				if after := snapshot(t, e, uid); !reflect.DeepEqual(before, after) {
					t.Fatal("the account changed")
				}
			})
		}
	})
}

func TestImport_PrivilegedFieldsIgnored(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newImpEnv(t, st, portability.Limits{})
		uid := e.newUser(t, "eve")
		user := `[{"id": 1, "name": "Eve Imported", "username": "admin", "email": "admin@example.com", "password": "x",
			"access_type": 2, "active": false, "mfa_enabled": true, "mfa_secret": "S", "email_verified": true,
			"pending_admin_approval": true, "city": "Porto", "units": 2, "gender": 2, "preferred_language": "pt",
			"first_day_of_week": 1, "currency": 1, "height": 170, "birthdate": "1990-02-03"}]`
		idp := `[{"idp_slug": "google", "idp_subject": "123", "linked_at": "2024-01-01 00:00:00"}]`
		integ := `[{"id": 1, "user_id": 1, "strava_token": "tok", "strava_client_secret": "sec"}]`
		b := buildZip(t, zent{name: "data/user.json", data: []byte(user)},
			zent{name: "data/user_identity_providers.json", data: []byte(idp)},
			zent{name: "data/user_integrations.json", data: []byte(integ)})
		res, err := e.importBytes(uid, b, portability.Options{})
		if err != nil {
			t.Fatal(err)
		}
		u, err := st.FindUserByID(t.Context(), uid)
		if err != nil {
			t.Fatal(err)
		}
		if u.AccessType != 1 || !u.Active || u.EmailVerified || u.PendingAdminApproval || u.Username != "eve" ||
			u.Email != "eve@example.com" || u.PasswordHash == nil || *u.PasswordHash == "x" {
			t.Fatalf("privileged fields changed: %+v", u)
		}
		if u.Name != "Eve Imported" || u.City == nil || *u.City != "Porto" || u.Units != 2 || u.PreferredLanguage != "pt" {
			t.Fatalf("profile fields not imported: %+v", u)
		}
		links, _ := st.ProfileLinks(t.Context(), uid)
		if links.MFAEnabled || links.StravaLinked {
			t.Fatalf("links = %+v", links)
		}
		if res.Skipped["user_identity_providers"] != 1 || len(res.Warnings) < 2 {
			t.Fatalf("skipped %v warnings %v", res.Skipped, res.Warnings)
		}
	})
}

// A count that lies by 65,536 in the end record (archive/zip accepts it and
// reads every record) is caught by counting the records first.
func TestImport_EntryCountLie(t *testing.T) {
	ents := make([]zent, 65_536+10)
	for i := range ents {
		ents[i] = zent{name: fmt.Sprintf("activity_files/%d.fit", i), stored: true}
	}
	b := buildZip(t, ents...)
	// Drop the zip64 records and write a plain end record whose 16-bit count is
	// the real count modulo 65,536.
	eocd := b[len(b)-22:]
	body := b[:len(b)-22-56-20]
	cdStart := cdRecords(body)[0]
	end := append([]byte{}, eocd...)
	binary.LittleEndian.PutUint16(end[8:], 10)
	binary.LittleEndian.PutUint16(end[10:], 10)
	binary.LittleEndian.PutUint32(end[12:], uint32(len(body)-cdStart))
	binary.LittleEndian.PutUint32(end[16:], uint32(cdStart))
	b = append(body, end...)
	if zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b))); err != nil || len(zr.File) != len(ents) {
		t.Fatalf("archive/zip should accept the lie: %v", err)
	}
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newImpEnv(t, st, portability.Limits{MaxEntries: 1000})
		_, err := e.importBytes(e.newUser(t, "ann"), b, portability.Options{})
		if account.ErrorCode(err) != account.ETOOLARGE || !strings.Contains(account.ErrorMessage(err), "central directory holds") {
			t.Fatalf("err = %v", err)
		}
	})
}
