package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/httpapi/httpapitest"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/testkit"
)

// stalledUpload sends the start of a multipart upload to path over a raw
// connection, then stops sending without closing, and returns the response
// and how long it took.
func stalledUpload(t *testing.T, e *httpapitest.Env, c *httpapitest.Client, path string, head int) (*http.Response, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "export.zip")
	fw.Write([]byte(strings.Repeat("P", head)))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\nX-Client-Type: mobile\r\nAuthorization: Bearer %s\r\n\r\n",
		path, mw.FormDataContentType(), 10<<20, c.Access)
	start := time.Now()
	conn.Write(body.Bytes())                               // and nothing more: the connection stays open
	conn.SetReadDeadline(time.Now().Add(10 * time.Second)) // fail, not hang, without the deadline
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("stalled upload to %s: no response: %v", path, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, time.Since(start)
}

// An upload that stops sending mid-body is cut off after UploadStall with
// 408 and a detail, on the import and the photo routes; nothing is left in the
// spool directory.
func TestUpload_StalledBodyTimesOut(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b, func(e *httpapitest.Env) { e.Server.Config.UploadStall = 300 * time.Millisecond })
		e.CreateUser("ana", false)
		c := e.NewClient("mobile")
		c.MustLogin("ana")
		for _, path := range []string{"/api/v1/profile/import", "/api/v1/profile/image"} {
			// More than one renewal's worth first: the deadline moves while data
			// arrives, and only the stall ends the request.
			resp, took := stalledUpload(t, e, c, path, 200<<10)
			var body map[string]any
			json.NewDecoder(resp.Body).Decode(&body)
			detail, _ := body["detail"].(string)
			if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(detail, "The upload stalled") || took > 5*time.Second {
				t.Fatalf("%s: %d %v after %s", path, resp.StatusCode, body, took)
			}
		}
		left, _ := filepath.Glob(filepath.Join(e.Server.Importer.TempDir, "*"))
		if len(left) != 0 {
			t.Fatalf("spooled files left: %v", left)
		}
		// A body sent promptly is unaffected by the deadline.
		if r := uploadArchive(t, c, "/api/v1/profile/import?dry_run=true", smallArchive(t)); r.Status != 200 {
			t.Fatalf("prompt upload: %d %s", r.Status, r.Body)
		}
	})
}

// One running import per user (409), and a full disk (507), each with a
// clear detail and nothing staged.
func TestImportHTTP_BusyAndDiskFull(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		e := httpapitest.New(t, b)
		u := e.CreateUser("ana", false)
		c := e.NewClient("mobile")
		c.MustLogin("ana")
		now := e.Clock.Now()
		busy := &portability.Job{ID: "job-busy", UserID: u.ID, Status: portability.JobRunning, CreatedAt: now,
			UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := e.Store.CreateImportJob(context.Background(), busy); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/api/v1/profile/import", "/api/v1/profile/import?async=true"} {
			r := uploadArchive(t, c, path, smallArchive(t))
			if r.Status != 409 || !strings.Contains(r.Detail(), "An import is already running for this account") {
				t.Fatalf("%s while busy: %d %s", path, r.Status, r.Body)
			}
		}
		e.Store.FinishImportJob(context.Background(), busy.ID, portability.JobFailed, nil, "x", now)

		e.Server.Importer.FreeSpace = func() (int64, error) { return 1 << 20, nil }
		r := uploadArchive(t, c, "/api/v1/profile/import", smallArchive(t))
		if r.Status != 507 || !strings.HasPrefix(r.Detail(), "Insufficient disk space during profile data import. Please free up space and try again.") {
			t.Fatalf("disk full: %d %s", r.Status, r.Body)
		}
		for _, dir := range []string{filepath.Join(b.DataDir, "files", "staging"), e.Server.Importer.TempDir} {
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Fatalf("left in %s: %v", dir, left)
			}
		}
		e.Server.Importer.FreeSpace = nil
		if r := uploadArchive(t, c, "/api/v1/profile/import", smallArchive(t)); r.Status != 200 {
			t.Fatalf("import with room: %d %s", r.Status, r.Body)
		}
	})
}
