package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/testkit"
)

func withImporter(lim portability.Limits) func(*testEnv) {
	return func(e *testEnv) {
		e.Server.Importer = &portability.Importer{Store: e.Store, Profiles: e.Store, Blobs: e.Blobs, Limits: lim,
			Now: e.Clock.Now, TempDir: e.t.TempDir()}
	}
}

func smallArchive(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := map[string]string{
		"data/gears.json":      `[{"id": 3, "nickname": "Blue shoes", "gear_type": 2, "created_at": "2023-01-01 10:00:00", "active": true, "initial_kms": "0E-10"}]`,
		"data/activities.json": `[{"id": 41, "name": "Run", "distance": 10012, "activity_type": 1, "start_time": "2024-05-01T07:00:00", "end_time": "2024-05-01T08:00:00", "total_elapsed_time": "3600.0000000000", "total_timer_time": "3600.0000000000", "gear_id": 3}]`,
	}
	if len(names) == 0 {
		names = []string{"data/gears.json", "data/activities.json"}
	}
	for _, n := range names {
		w, _ := zw.Create(n)
		w.Write([]byte(files[n]))
	}
	zw.Close()
	return buf.Bytes()
}

func multipartFile(t *testing.T, field string, b []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile(field, "export.zip")
	fw.Write(b)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func (c *client) uploadArchive(path string, archive []byte) *response {
	c.e.t.Helper()
	body, ct := multipartFile(c.e.t, "file", archive)
	return c.do("POST", path, body, "Content-Type", ct)
}

func countActivities(t *testing.T, e *testEnv, uid int64) int {
	t.Helper()
	rows, err := e.Store.ExportPage(context.Background(), fitness.Activities, fitness.PageQuery{UserID: uid, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

func TestImportHTTP(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := newEnv(t, b, withImporter(portability.Limits{MaxUploadBytes: 64 << 10}))
		u := e.createUser("ana", false)
		c := e.newClient("web")
		c.mustLogin("ana")

		r := c.uploadArchive("/api/v1/profile/import?dry_run=true", smallArchive(t))
		if r.Status != 200 || r.json(t)["dry_run"] != true || countActivities(t, e, u.ID) != 0 {
			t.Fatalf("dry run: %d %s", r.Status, r.Body)
		}

		r = c.uploadArchive("/api/v1/profile/import", smallArchive(t))
		if r.Status != 200 || r.detail() != "Import completed" {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
		m := r.json(t)
		if m["imported"].(map[string]any)["activities"] != float64(1) || m["imported"].(map[string]any)["gears"] != float64(1) {
			t.Fatalf("imported = %v", m["imported"])
		}
		r = c.uploadArchive("/api/v1/profile/import", smallArchive(t))
		if r.Status != 200 || r.json(t)["skipped"].(map[string]any)["activities"] != float64(1) || countActivities(t, e, u.ID) != 1 {
			t.Fatalf("second import: %d %s", r.Status, r.Body)
		}

		// Bad input is a 4xx naming the entry, never a 500.
		var evil bytes.Buffer
		zw := zip.NewWriter(&evil)
		w, _ := zw.Create("../../etc/passwd")
		w.Write([]byte("x"))
		zw.Close()
		if r := c.uploadArchive("/api/v1/profile/import", evil.Bytes()); r.Status != 400 || !strings.Contains(r.detail(), "../../etc/passwd") {
			t.Fatalf("zip slip: %d %s", r.Status, r.Body)
		}
		if r := c.uploadArchive("/api/v1/profile/import", bytes.Repeat([]byte("x"), 70<<10)); r.Status != 413 {
			t.Fatalf("too large: %d %s", r.Status, r.Body)
		}
		if r := c.uploadArchive("/api/v1/profile/import", []byte("not a zip")); r.Status != 400 {
			t.Fatalf("not a zip: %d %s", r.Status, r.Body)
		}
		if r := c.do("POST", "/api/v1/profile/import", `{}`); r.Status != 400 {
			t.Fatalf("not multipart: %d %s", r.Status, r.Body)
		}
		if r := e.newClient("web").uploadArchive("/api/v1/profile/import", smallArchive(t)); r.Status != 401 {
			t.Fatalf("anonymous: %d", r.Status)
		}
	})
}

func TestImportHTTP_AsyncJob(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := newEnv(t, b, withImporter(portability.Limits{}))
		u := e.createUser("ana", false)
		e.createUser("other", false)
		c := e.newClient("mobile")
		c.mustLogin("ana")
		r := c.uploadArchive("/api/v1/profile/import?async=true", smallArchive(t))
		if r.Status != 202 {
			t.Fatalf("async: %d %s", r.Status, r.Body)
		}
		id := r.json(t)["job_id"].(string)
		// The event stream ends with "done" once the job has finished.
		ev := c.do("GET", "/api/v1/profile/import/jobs/"+id+"/events", nil)
		if ev.Status != 200 || !strings.Contains(ev.Header.Get("Content-Type"), "text/event-stream") ||
			!strings.Contains(string(ev.Body), "event: done") || !strings.Contains(string(ev.Body), `"status":"succeeded"`) {
			t.Fatalf("events: %d %s", ev.Status, ev.Body)
		}
		j := c.do("GET", "/api/v1/profile/import/jobs/"+id, nil)
		if j.Status != 200 || j.json(t)["status"] != "succeeded" || countActivities(t, e, u.ID) != 1 {
			t.Fatalf("job: %d %s", j.Status, j.Body)
		}
		res := j.json(t)["result"].(map[string]any)
		if res["imported"].(map[string]any)["activities"] != float64(1) {
			t.Fatalf("result = %v", res)
		}
		o := e.newClient("mobile")
		o.mustLogin("other")
		if r := o.do("GET", "/api/v1/profile/import/jobs/"+id, nil); r.Status != 404 {
			t.Fatalf("another user's job: %d", r.Status)
		}

		// A failing async job reports its error.
		r = c.uploadArchive("/api/v1/profile/import?async=true", []byte("nope"))
		id = r.json(t)["job_id"].(string)
		deadline := time.Now().Add(5 * time.Second)
		for {
			j = c.do("GET", "/api/v1/profile/import/jobs/"+id, nil)
			if j.json(t)["status"] == "failed" || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if m := j.json(t); m["status"] != "failed" || !strings.Contains(m["error"].(string), "Invalid file format") {
			t.Fatalf("failed job: %s", j.Body)
		}
	})
}
