package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/testkit"
)

// An instance started with another master key than the database's first
// start refuses to start, with one line naming TRAILPASS_SECRET_KEY, instead of
// serving and failing later on the first secret sealed by the other key. The
// old key is accepted beside the new one, and after keys rotate the new one
// alone.
func TestServe_RefusesAnotherMasterKey(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		os.Chmod(b.DataDir, 0o700) // no warning about it among the lines
		keyA, keyB := hex.EncodeToString(bytes.Repeat([]byte{0xa}, 32)), hex.EncodeToString(bytes.Repeat([]byte{0xb}, 32))
		envWith := func(key, old string) map[string]string {
			return map[string]string{"TRAILPASS_DATABASE_URL": b.URL, "TRAILPASS_DATA_DIR": b.DataDir,
				"TRAILPASS_SECRET_KEY": key, "TRAILPASS_OLD_SECRET_KEYS": old, "TRAILPASS_ADMIN_PASSWORD": "Adm1n!Password"}
		}
		refused := func(env map[string]string) {
			t.Helper()
			var stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			code := run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}, func(k string) string { return env[k] },
				strings.NewReader(""), io.Discard, &stderr)
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "trailpass: TRAILPASS_SECRET_KEY: ") {
				t.Fatalf("serve with another key: code %d, stderr:\n%s", code, stderr.String())
			}
		}
		_, _, stop := startServe(t, envWith(keyA, ""))
		if code := stop(); code != 0 {
			t.Fatalf("first start: %d", code)
		}
		refused(envWith(keyB, ""))
		// The first key as a retired one: accepted.
		_, _, stop = startServe(t, envWith(keyB, keyA))
		stop()
		var out, errb bytes.Buffer
		env := envWith(keyB, keyA)
		if code := run(context.Background(), []string{"keys", "rotate"}, func(k string) string { return env[k] }, nil, &out, &errb); code != 0 {
			t.Fatalf("keys rotate: %d %s", code, errb.String())
		}
		_, _, stop = startServe(t, envWith(keyB, ""))
		stop()
		refused(envWith(keyA, ""))
	})
}

// serve warns when other users may read the data directory.
func TestServe_WarnsOnOpenDataDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TRAILPASS_DATA_DIR": dir, "TRAILPASS_ADMIN_PASSWORD": "Adm1n!Password"}
	_, logs, stop := startServe(t, env)
	stop()
	if strings.Contains(logs.String(), "readable by other users") {
		t.Fatalf("warned about a 0700 directory:\n%s", logs.String())
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, logs, stop = startServe(t, env)
	stop()
	if !strings.Contains(logs.String(), `"msg":"the data directory is readable by other users; restrict it with chmod 700"`) ||
		!strings.Contains(logs.String(), `"mode":"0755"`) {
		t.Fatalf("no warning about a 0755 directory:\n%s", logs.String())
	}
}

// The recovery loop every instance runs fails a job whose heartbeat stopped,
// removes its staged files and lets the user import again, without a restart.
func TestRecoveryLoop_RecoversWithoutRestart(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		st := testkit.OpenStore(t, b)
		files, err := blob.OpenDir(b.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		defer files.Close()
		hash := "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$x"
		clock := testkit.NewClock(time.Now().UTC())
		u := &account.User{Name: "ann", Username: "ann", Email: "ann@example.com", PasswordHash: &hash,
			PreferredLanguage: "us", Gender: 1, Units: 1, AccessType: 1, Active: true, FirstDayOfWeek: 1,
			Currency: 1, CreatedAt: clock.Now(), UpdatedAt: clock.Now()}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		now := clock.Now()
		job := &portability.Job{ID: "job-dead", UserID: u.ID, Status: portability.JobRunning, Stage: portability.StageValidating,
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := st.CreateImportJob(ctx, job); err != nil {
			t.Fatal(err)
		}
		if _, err := files.Put(ctx, "staging/job-dead/f1", strings.NewReader("fit")); err != nil {
			t.Fatal(err)
		}
		im := testImporter(t, st, files, clock.Now)
		old := recoverEvery
		recoverEvery = 10 * time.Millisecond
		defer func() { recoverEvery = old }()
		go recoveryLoop(ctx, im, slog.New(slog.NewTextHandler(io.Discard, nil)))

		time.Sleep(100 * time.Millisecond) // several rounds: the job is too fresh to touch
		if j, _ := st.ImportJob(ctx, u.ID, job.ID); j.Status != portability.JobRunning {
			t.Fatalf("a fresh job was recovered: %s", j.Status)
		}
		clock.Advance(portability.StaleAfter + time.Second)
		deadline := time.Now().Add(10 * time.Second)
		for {
			j, _ := st.ImportJob(ctx, u.ID, job.ID)
			_, statErr := os.Stat(filepath.Join(b.DataDir, "staging", "job-dead"))
			if j.Status == portability.JobFailed && os.IsNotExist(statErr) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not recovered: status %s, staging %v", j.Status, statErr)
			}
			time.Sleep(10 * time.Millisecond)
		}
		next := &portability.Job{ID: "job-next", UserID: u.ID, Status: portability.JobRunning, CreatedAt: clock.Now(),
			UpdatedAt: clock.Now(), ExpiresAt: clock.Now().Add(time.Hour)}
		if err := st.CreateImportJob(ctx, next); err != nil {
			t.Fatalf("the dead job still blocks the user: %v", err)
		}
	})
}

// A client that sends its headers too slowly loses the connection after
// readHeaderTimeout; a prompt one is served.
func TestHTTPServer_SlowHeaders(t *testing.T) {
	old := readHeaderTimeout
	readHeaderTimeout = 300 * time.Millisecond
	defer func() { readHeaderTimeout = old }()
	srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n") // and never the blank line
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, err := io.ReadAll(conn)
	if took := time.Since(start); err != nil || took > 5*time.Second || strings.Contains(string(rest), "200 OK") {
		t.Fatalf("slow headers: after %s: %q %v", took, rest, err)
	}

	conn2, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	io.WriteString(conn2, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn2), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("prompt request: %v %v", resp, err)
	}
	if srv.IdleTimeout <= 0 || srv.ReadHeaderTimeout != 300*time.Millisecond {
		t.Fatalf("timeouts: %+v", srv)
	}
}
