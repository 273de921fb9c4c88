package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/testkit"
)

var addrRE = regexp.MustCompile(`"msg":"trailpass listening","addr":"([^"]+)"`)

// startServe runs "trailpass serve" in-process and returns its base URL and a stop
// function that returns the exit code.
func startServe(t *testing.T, env map[string]string, args ...string) (string, *testkit.LogBuffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &testkit.LogBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, logs)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			stopped := false
			stop := func() int {
				if stopped {
					return 0
				}
				stopped = true
				cancel()
				return <-done
			}
			t.Cleanup(func() { stop() })
			return "http://" + m[1], logs, stop
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d:\n%s", code, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: body is not JSON: %v", url, err)
	}
	return resp.StatusCode, body
}

// With no configuration at all, serve runs on SQLite in the data directory,
// generates the key (0600) and the first admin, and answers health checks.
func TestServe_NoConfiguration(t *testing.T) {
	dir := t.TempDir()
	base, logs, stop := startServe(t, nil, "--data-dir", dir)
	if code, body := getJSON(t, base+"/healthz"); code != 200 || body["status"] != "ok" {
		t.Fatalf("healthz = %d %v", code, body)
	}
	if code, body := getJSON(t, base+"/readyz"); code != 200 || body["status"] != "ready" {
		t.Fatalf("readyz = %d %v", code, body)
	}
	st, err := os.Stat(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("secret.key mode = %v, want 0600", st.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(dir, "trailpass.db")); err != nil {
		t.Fatal("no SQLite database in the data directory:", err)
	}
	for _, want := range []string{"generated a new master secret key", "created the first admin account with a generated password"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM-like cancel", code)
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Fatal("no clean shutdown in the log")
	}
	// A second start reuses the key and does not create another admin.
	_, logs2, stop2 := startServe(t, nil, "--data-dir", dir)
	stop2()
	if strings.Contains(logs2.String(), "generated a new master secret key") || strings.Contains(logs2.String(), "created the first admin") {
		t.Fatalf("second start regenerated state:\n%s", logs2.String())
	}
}

func TestRun_BadConfiguration(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"serve", "--database-url", "mysql://localhost/x"}, nil, "TRAILPASS_DATABASE_URL"},
		{[]string{"serve"}, map[string]string{"TRAILPASS_SECRET_KEY_FILE": "/nonexistent/secret"}, "TRAILPASS_SECRET_KEY_FILE"},
		{[]string{"serve", "--listen", "nowhere"}, nil, "TRAILPASS_LISTEN"},
		{[]string{"serve"}, map[string]string{"TRAILPASS_LISTEN": "127.0.0.1:99999"}, "TRAILPASS_LISTEN"},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), tc.args, func(k string) string { return tc.env[k] }, strings.NewReader(""), io.Discard, &stderr)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if code == 0 || len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
			t.Errorf("%v %v: exit %d, stderr %q; want non-zero and one line naming %s", tc.args, tc.env, code, stderr.String(), tc.want)
		}
	}
}

func TestRun_UserCommands(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		env := map[string]string{"TRAILPASS_DATABASE_URL": b.URL, "TRAILPASS_DATA_DIR": b.DataDir}
		getenv := func(k string) string { return env[k] }
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"user", "create", "--username", "Rider", "--email", "rider@example.com", "--password-stdin"},
			getenv, strings.NewReader("Str0ng!Passw0rd\n"), &out, &errb)
		if code != 0 || !strings.Contains(out.String(), "created user rider") {
			t.Fatalf("user create: %d %q %q", code, out.String(), errb.String())
		}
		out.Reset()
		errb.Reset()
		code = run(context.Background(), []string{"user", "create", "--username", "weak", "--email", "weak@example.com", "--password-stdin"},
			getenv, strings.NewReader("short\n"), &out, &errb)
		if code == 0 || !strings.Contains(errb.String(), "Password must be") {
			t.Fatalf("weak password accepted: %d %q", code, errb.String())
		}
		out.Reset()
		code = run(context.Background(), []string{"user", "create", "--username", "boss", "--email", "boss@example.com", "--admin"},
			getenv, strings.NewReader(""), &out, &errb)
		if code != 0 || !regexp.MustCompile(`password: \S{20}`).MatchString(out.String()) {
			t.Fatalf("generated password not printed: %q", out.String())
		}
		out.Reset()
		if code := run(context.Background(), []string{"user", "list"}, getenv, nil, &out, &errb); code != 0 {
			t.Fatalf("user list: %d %s", code, errb.String())
		}
		if !regexp.MustCompile(`rider\s+rider@example.com\s+regular\s+true`).MatchString(out.String()) ||
			!regexp.MustCompile(`boss\s+boss@example.com\s+admin`).MatchString(out.String()) || strings.Contains(out.String(), "weak") {
			t.Fatalf("user list output:\n%s", out.String())
		}
	})
}

// Two serve processes started at the same moment against one empty PostgreSQL
// database both come up, and each migration ran exactly once.
func TestServe_TwoInstancesStartTogetherOnPostgres(t *testing.T) {
	if os.Getenv(testkit.PostgresEnv) == "" {
		t.Skip(testkit.PostgresEnv + " is not set")
	}
	dbURL := testkit.NewPostgresSchema(t)
	bin := filepath.Join(t.TempDir(), "trailpass")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dataDir := t.TempDir()
	type proc struct {
		cmd  *exec.Cmd
		base chan string
		logs *testkit.LogBuffer
	}
	var procs []*proc
	for i := 0; i < 2; i++ {
		p := &proc{base: make(chan string, 1), logs: &testkit.LogBuffer{}}
		p.cmd = exec.Command(bin, "serve", "--listen", "127.0.0.1:0")
		p.cmd.Env = append(os.Environ(), "TRAILPASS_DATABASE_URL="+dbURL, "TRAILPASS_DATA_DIR="+dataDir, "TRAILPASS_ADMIN_PASSWORD=Adm1n!Passw0rd")
		pr, pw := io.Pipe()
		p.cmd.Stderr = pw
		go func() {
			sc := bufio.NewScanner(pr)
			for sc.Scan() {
				p.logs.Write(append(sc.Bytes(), '\n'))
				if m := addrRE.FindSubmatch(sc.Bytes()); m != nil {
					p.base <- "http://" + string(m[1])
				}
			}
		}()
		procs = append(procs, p)
	}
	for _, p := range procs {
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func(p *proc) { p.cmd.Process.Kill(); p.cmd.Wait() }(p)
	}
	for i, p := range procs {
		select {
		case base := <-p.base:
			if code, _ := getJSON(t, base+"/readyz"); code != 200 {
				t.Fatalf("instance %d not ready: %d", i, code)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("instance %d did not start:\n%s", i, p.logs.String())
		}
	}
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var applied, distinct, admins int
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied == 0 || applied != distinct {
		t.Fatalf("goose_db_version: %d rows for %d versions; migrations ran more than once", applied, distinct)
	}
	db.QueryRow(`SELECT COUNT(*) FROM users WHERE username = 'admin'`).Scan(&admins)
	if admins != 1 {
		t.Fatalf("%d admin accounts", admins)
	}
	migrated := 0
	for _, p := range procs {
		if strings.Contains(p.logs.String(), "applied database migrations") {
			migrated++
		}
	}
	if migrated != 1 {
		t.Fatalf("%d instances applied migrations, want exactly 1", migrated)
	}
}
