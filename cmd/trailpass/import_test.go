package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/app"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/secret"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// accountFiles lists every file under the blob folders (and staging) with its
// content.
func accountFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, sub := range []string{"activity_files", "activity_media", "user_images", "staging"} {
		filepath.Walk(filepath.Join(dir, sub), func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				b, _ := os.ReadFile(p)
				rel, _ := filepath.Rel(dir, p)
				out[rel] = string(b)
			}
			return nil
		})
	}
	return out
}

// accountRows is the user's whole exported data, ids included.
func accountRows(t *testing.T, st *store.Store, files *blob.Dir, uid int64) string {
	t.Helper()
	var buf bytes.Buffer
	x := &portability.Exporter{Store: st, Blobs: files, Now: func() time.Time { return time.Unix(0, 0) }}
	if _, err := x.Export(context.Background(), uid, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestImportCommand(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		env := map[string]string{"TRAILPASS_DATABASE_URL": b.URL, "TRAILPASS_DATA_DIR": b.DataDir}
		getenv := func(k string) string { return env[k] }
		var out, errOut bytes.Buffer
		runOK := func(args ...string) {
			t.Helper()
			out.Reset()
			errOut.Reset()
			if code := run(context.Background(), args, getenv, strings.NewReader(""), &out, &errOut); code != 0 {
				t.Fatalf("%v: code %d\n%s\n%s", args, code, out.String(), errOut.String())
			}
		}
		runOK("seed", "--username", "src", "--activities", "4", "--seed", "3", "--min-duration", "30s", "--max-duration", "60s")
		zipPath := filepath.Join(t.TempDir(), "src.zip")
		runOK("export", "--username", "src", "-o", zipPath)
		if code := run(context.Background(), []string{"user", "create", "--username", "dst", "--email", "dst@example.com",
			"--password-stdin"}, getenv, strings.NewReader("Correct-Horse-9-Battery\n"), &out, &errOut); code != 0 {
			t.Fatalf("user create: %s", errOut.String())
		}
		runOK("import", "--username", "dst", "--dry-run", zipPath)
		if !strings.Contains(out.String(), "dry run") || !strings.Contains(out.String(), "imported activities                 4") {
			t.Fatalf("dry run output:\n%s", out.String())
		}
		runOK("import", "--username", "dst", zipPath)
		if !strings.Contains(out.String(), "Import completed") || !strings.Contains(out.String(), "imported activities                 4") {
			t.Fatalf("import output:\n%s", out.String())
		}
		runOK("import", "--username", "dst", zipPath)
		if !strings.Contains(out.String(), "skipped  activities                 4") {
			t.Fatalf("second import output:\n%s", out.String())
		}
	})
}

// TestImport_KilledMidway kills the trailpass process while it imports, then
// runs start-up recovery and finds the account exactly as before.
func TestImport_KilledMidway(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "trailpass")
	if o, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, o)
	}
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		env := map[string]string{"TRAILPASS_DATABASE_URL": b.URL, "TRAILPASS_DATA_DIR": b.DataDir}
		getenv := func(k string) string { return env[k] }
		var out, errOut bytes.Buffer
		runOK := func(args ...string) {
			t.Helper()
			if code := run(context.Background(), args, getenv, strings.NewReader(""), &out, &errOut); code != 0 {
				t.Fatalf("%v: code %d\n%s\n%s", args, code, out.String(), errOut.String())
			}
		}
		runOK("seed", "--username", "src", "--activities", "200", "--seed", "5", "--min-duration", "5m", "--max-duration", "8m")
		runOK("seed", "--username", "dst", "--activities", "3", "--seed", "6", "--min-duration", "30s", "--max-duration", "60s")
		zipPath := filepath.Join(t.TempDir(), "src.zip")
		runOK("export", "--username", "src", "-o", zipPath)

		ctx := context.Background()
		st, err := store.Open(ctx, b.URL, b.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		files, err := blob.OpenDir(b.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		defer files.Close()
		dst, err := st.FindUserByUsername(ctx, "dst")
		if err != nil {
			t.Fatal(err)
		}
		rowsBefore, filesBefore := accountRows(t, st, files, dst.ID), accountFiles(t, b.DataDir)

		cmd := exec.Command(bin, "import", "--username", "dst", zipPath)
		cmd.Env = append(os.Environ(), "TRAILPASS_DATABASE_URL="+b.URL, "TRAILPASS_DATA_DIR="+b.DataDir)
		var cmdOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &cmdOut, &cmdOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Kill once the job says it is writing: files are staged and the
		// transaction is about to open or open.
		deadline := time.Now().Add(60 * time.Second)
		for {
			jobs, err := st.ImportJobsByStatus(ctx, portability.JobRunning, time.Now().Add(time.Hour))
			if err == nil && len(jobs) == 1 && jobs[0].Stage == portability.StageWriting {
				break
			}
			select {
			case err := <-done:
				t.Fatalf("the import finished before it could be killed (%v):\n%s", err, cmdOut.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatal("the import never reached the writing stage")
			}
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(30 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		if err := <-done; err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("the import was not killed midway (%v):\n%s", err, cmdOut.String())
		}
		if staged := accountFiles(t, b.DataDir); len(staged) <= len(filesBefore) {
			t.Fatalf("nothing was staged before the kill: %d files, %d before", len(staged), len(filesBefore))
		}

		// Restart: start-up recovery rolls the dead job back.
		im := testImporter(t, st, files, timeNow)
		n, err := im.Recover(ctx, 0)
		if err != nil || n != 1 {
			t.Fatalf("recover: %d, %v", n, err)
		}
		if got := accountRows(t, st, files, dst.ID); got != rowsBefore {
			t.Fatal("the account's rows changed")
		}
		if got := accountFiles(t, b.DataDir); !reflect.DeepEqual(got, filesBefore) {
			t.Fatalf("the files changed: %d files, %d before", len(got), len(filesBefore))
		}
		if left, _ := os.ReadDir(filepath.Join(b.DataDir, "staging")); len(left) != 0 {
			t.Fatalf("staged files left behind: %v", left)
		}
		jobs, _ := st.ImportJobsByStatus(ctx, portability.JobFailed, time.Now().Add(time.Hour))
		if len(jobs) != 1 || !strings.Contains(jobs[0].Error, "interrupted") {
			t.Fatalf("job after recovery: %+v", jobs)
		}
	})
}

// testImporter is the importer the one wiring builds over st and files, with
// now as its clock.
func testImporter(t *testing.T, st *store.Store, files *blob.Dir, now func() time.Time) *portability.Importer {
	t.Helper()
	return testApp(t, st, files, mustKeyring(t, make([]byte, secret.KeySize)), now).Importer
}

// testApp builds the services through the one wiring, as the commands do,
// with a cheap hasher; files nil means a file store of the test's own.
func testApp(t *testing.T, st *store.Store, files *blob.Dir, keyring *secret.Keyring, now func() time.Time) *app.App {
	t.Helper()
	if files == nil {
		var err error
		if files, err = blob.OpenDir(t.TempDir()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { files.Close() })
	}
	pub, _ := url.Parse("http://127.0.0.1")
	hasher := secret.NewHasher(secret.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}, 2)
	a, err := app.New(app.Deps{Store: st, Blobs: files, Keyring: keyring, Hasher: hasher, Now: now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PublicURL: pub})
	if err != nil {
		t.Fatal(err)
	}
	return a
}
