package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"

	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/testkit"
)

func withLimits(lim portability.Limits) func(*httpapitest.Env) {
	return func(e *httpapitest.Env) { e.Server.Importer.Limits = lim }
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

func uploadArchive(t *testing.T, c *httpapitest.Client, path string, archive []byte) *httpapitest.Response {
	t.Helper()
	body, ct := multipartFile(t, "file", archive)
	return c.Do("POST", path, body, "Content-Type", ct)
}

func countActivities(t *testing.T, e *httpapitest.Env, uid int64) int {
	t.Helper()
	rows, err := e.Store.ExportPage(context.Background(), fitness.Activities, fitness.PageQuery{UserID: uid, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

func TestImportHTTP(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b, withLimits(portability.Limits{MaxUploadBytes: 64 << 10}))
		u := e.CreateUser("ana", false)
		c := e.NewClient("web")
		c.MustLogin("ana")

		r := uploadArchive(t, c, "/api/v1/profile/import?dry_run=true", smallArchive(t))
		if r.Status != 200 || r.JSON(t)["dry_run"] != true || countActivities(t, e, u.ID) != 0 {
			t.Fatalf("dry run: %d %s", r.Status, r.Body)
		}

		r = uploadArchive(t, c, "/api/v1/profile/import", smallArchive(t))
		if r.Status != 200 || r.Detail() != "Import completed" {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
		m := r.JSON(t)
		if m["imported"].(map[string]any)["activities"] != float64(1) || m["imported"].(map[string]any)["gears"] != float64(1) {
			t.Fatalf("imported = %v", m["imported"])
		}
		r = uploadArchive(t, c, "/api/v1/profile/import", smallArchive(t))
		if r.Status != 200 || r.JSON(t)["skipped"].(map[string]any)["activities"] != float64(1) || countActivities(t, e, u.ID) != 1 {
			t.Fatalf("second import: %d %s", r.Status, r.Body)
		}

		// Bad input is a 4xx naming the entry, never a 500.
		var evil bytes.Buffer
		zw := zip.NewWriter(&evil)
		w, _ := zw.Create("../../etc/passwd")
		w.Write([]byte("x"))
		zw.Close()
		if r := uploadArchive(t, c, "/api/v1/profile/import", evil.Bytes()); r.Status != 400 || !strings.Contains(r.Detail(), "../../etc/passwd") {
			t.Fatalf("zip slip: %d %s", r.Status, r.Body)
		}
		if r := uploadArchive(t, c, "/api/v1/profile/import", bytes.Repeat([]byte("x"), 70<<10)); r.Status != 413 {
			t.Fatalf("too large: %d %s", r.Status, r.Body)
		}
		if r := uploadArchive(t, c, "/api/v1/profile/import", []byte("not a zip")); r.Status != 400 {
			t.Fatalf("not a zip: %d %s", r.Status, r.Body)
		}
		if r := c.Do("POST", "/api/v1/profile/import", `{}`); r.Status != 400 {
			t.Fatalf("not multipart: %d %s", r.Status, r.Body)
		}
		if r := uploadArchive(t, e.NewClient("web"), "/api/v1/profile/import", smallArchive(t)); r.Status != 401 {
			t.Fatalf("anonymous: %d", r.Status)
		}
	})
}

func TestImportHTTP_AsyncJob(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b, withLimits(portability.Limits{}))
		u := e.CreateUser("ana", false)
		e.CreateUser("other", false)
		c := e.NewClient("mobile")
		c.MustLogin("ana")
		r := uploadArchive(t, c, "/api/v1/profile/import?async=true", smallArchive(t))
		if r.Status != 202 {
			t.Fatalf("async: %d %s", r.Status, r.Body)
		}
		id := r.JSON(t)["job_id"].(string)
		// The event stream ends with "done" once the job has finished.
		ev := c.Do("GET", "/api/v1/profile/import/jobs/"+id+"/events", nil)
		if ev.Status != 200 || !strings.Contains(ev.Header.Get("Content-Type"), "text/event-stream") ||
			!strings.Contains(string(ev.Body), "event: done") || !strings.Contains(string(ev.Body), `"status":"succeeded"`) {
			t.Fatalf("events: %d %s", ev.Status, ev.Body)
		}
		j := c.Do("GET", "/api/v1/profile/import/jobs/"+id, nil)
		if j.Status != 200 || j.JSON(t)["status"] != "succeeded" || countActivities(t, e, u.ID) != 1 {
			t.Fatalf("job: %d %s", j.Status, j.Body)
		}
		res := j.JSON(t)["result"].(map[string]any)
		if res["imported"].(map[string]any)["activities"] != float64(1) {
			t.Fatalf("result = %v", res)
		}
		o := e.NewClient("mobile")
		o.MustLogin("other")
		if r := o.Do("GET", "/api/v1/profile/import/jobs/"+id, nil); r.Status != 404 {
			t.Fatalf("another user's job: %d", r.Status)
		}

		// A failing async job reports its error.
		r = uploadArchive(t, c, "/api/v1/profile/import?async=true", []byte("nope"))
		id = r.JSON(t)["job_id"].(string)
		deadline := time.Now().Add(5 * time.Second)
		for {
			j = c.Do("GET", "/api/v1/profile/import/jobs/"+id, nil)
			if j.JSON(t)["status"] == "failed" || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if m := j.JSON(t); m["status"] != "failed" || !strings.Contains(m["error"].(string), "Invalid file format") {
			t.Fatalf("failed job: %s", j.Body)
		}
	})
}
