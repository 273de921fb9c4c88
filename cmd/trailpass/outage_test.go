package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// privatePostgres is a PostgreSQL server of the test's own, on its own port
// and data directory: never the machine's shared server.
type privatePostgres struct {
	t    *testing.T
	bin  string
	dir  string
	port int
}

// startPrivatePostgres runs initdb and pg_ctl start, or skips when the
// PostgreSQL server binaries are not installed.
func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if p, err := exec.LookPath("initdb"); err == nil {
		bins = append(bins, p)
	}
	if len(bins) == 0 {
		t.Skip("initdb not found: PostgreSQL server binaries are not installed")
	}
	// Not t.TempDir: its parent is private to root, and PostgreSQL runs as postgres.
	dir, err := os.MkdirTemp("", "trailpass-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg := &privatePostgres{t: t, bin: filepath.Dir(bins[len(bins)-1]), dir: dir, port: freePort(t)}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "-R", "postgres:postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v %s", err, out)
		}
	}
	t.Cleanup(func() {
		pg.ctl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if out, err := pg.run("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	pg.start()
	return pg
}

// run runs a PostgreSQL program, as the postgres user when we are root
// (PostgreSQL refuses to run as root).
func (pg *privatePostgres) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(pg.bin, prog)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	return cmd.CombinedOutput()
}

func (pg *privatePostgres) ctl(args ...string) ([]byte, error) {
	return pg.run("pg_ctl", append([]string{"-D", filepath.Join(pg.dir, "data"), "-w", "-t", "30"}, args...)...)
}

func (pg *privatePostgres) start() {
	pg.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", pg.port, pg.dir)
	if out, err := pg.ctl("start", "-l", filepath.Join(pg.dir, "log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(pg.dir, "log"))
		pg.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

func (pg *privatePostgres) stop() {
	pg.t.Helper()
	if out, err := pg.ctl("stop", "-m", "fast"); err != nil {
		pg.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

func (pg *privatePostgres) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// apiClient talks to one trailpass with a bounded timeout: a hang is a failure.
type apiClient struct {
	base string
	http *http.Client
}

func newAPIClient(base string) *apiClient {
	return &apiClient{base: base, http: &http.Client{Timeout: 10 * time.Second}}
}

// call sends a request and decodes its JSON answer (an object, else nil). body is JSON unless it
// is url.Values (a form).
func (c *apiClient) call(method, path, bearer string, body any, hdr ...string) (int, map[string]any, error) {
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		j, _ := json.Marshal(b)
		rd, ctype = strings.NewReader(string(j)), "application/json"
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("X-Client-Type", "mobile")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: %d answer is not JSON: %q", method, path, resp.StatusCode, raw)
	}
	m, _ := v.(map[string]any) // nil for a JSON list
	return resp.StatusCode, m, nil
}

// login signs in with a password and returns the mobile body.
func (c *apiClient) login(username, password string, hdr ...string) (int, map[string]any, error) {
	return c.call("POST", "/api/v1/token", "", url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}}, hdr...)
}

// Stopping PostgreSQL under load makes /readyz and the API answer 503 with a
// JSON detail (no 500, no 401 that would sign the web app out, no hang), and
// the service recovers by itself when PostgreSQL is back.
func TestServe_PostgresOutageAndRecovery(t *testing.T) {
	pg := startPrivatePostgres(t)
	base, logs, _ := startServe(t, map[string]string{
		"TRAILPASS_DATABASE_URL":   pg.url(),
		"TRAILPASS_DATA_DIR":       t.TempDir(),
		"TRAILPASS_ADMIN_PASSWORD": "Adm1n!Passw0rd",
	})
	c := newAPIClient(base)
	code, body, err := c.login("admin", "Adm1n!Passw0rd")
	if err != nil || code != 200 {
		t.Fatalf("login: %d %v %v", code, body, err)
	}
	access := body["access_token"].(string)

	// A little steady load through the whole outage.
	var mu sync.Mutex
	seen := map[int]int{}
	var loadErrs []string
	stopLoad := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stopLoad:
					return
				case <-time.After(20 * time.Millisecond):
				}
				path := "/api/v1/profile"
				if i%2 == 1 {
					path = "/api/v1/profile/sessions"
				}
				code, body, err := c.call("GET", path, access, nil)
				mu.Lock()
				seen[code]++
				if err != nil {
					loadErrs = append(loadErrs, err.Error())
				} else if code != 200 && code != 503 {
					loadErrs = append(loadErrs, fmt.Sprintf("GET %s = %d %v", path, code, body))
				} else if code == 503 && body["detail"] == nil {
					loadErrs = append(loadErrs, "503 without detail")
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)

	pg.stop()
	waitFor(t, "readyz 503 after PostgreSQL stopped", func() (bool, string) {
		code, body, err := c.call("GET", "/readyz", "", nil)
		return err == nil && code == 503 && body["detail"] != nil, fmt.Sprint(code, body, err)
	})
	for _, path := range []string{"/api/v1/profile", "/api/v1/profile/sessions"} {
		code, body, err := c.call("GET", path, access, nil)
		if err != nil || code != 503 || body["detail"] != "Database unavailable" {
			t.Errorf("GET %s during the outage = %d %v %v; want 503 with a detail", path, code, body, err)
		}
	}
	if code, body, err := c.login("admin", "Adm1n!Passw0rd"); err != nil || code != 503 || body["detail"] == nil {
		t.Errorf("login during the outage = %d %v %v; want 503", code, body, err)
	}
	time.Sleep(300 * time.Millisecond)

	pg.start()
	waitFor(t, "readyz 200 after PostgreSQL restarted", func() (bool, string) {
		code, body, err := c.call("GET", "/readyz", "", nil)
		return err == nil && code == 200, fmt.Sprint(code, body, err)
	})
	waitFor(t, "the API to answer 200 again", func() (bool, string) {
		code, body, err := c.call("GET", "/api/v1/profile", access, nil)
		return err == nil && code == 200, fmt.Sprint(code, body, err)
	})
	if code, body, err := c.login("admin", "Adm1n!Passw0rd"); err != nil || code != 200 {
		t.Errorf("login after recovery = %d %v %v", code, body, err)
	}
	time.Sleep(200 * time.Millisecond)
	close(stopLoad)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(loadErrs) > 0 {
		t.Errorf("%d bad answers under load, first: %s", len(loadErrs), loadErrs[0])
	}
	if seen[200] == 0 || seen[503] == 0 {
		t.Errorf("load saw %v; want both 200s and 503s", seen)
	}
	t.Logf("load answers by status: %v", seen)
	if strings.Contains(logs.String(), `"status":500`) {
		t.Error("a request was answered 500")
	}
}

// waitFor polls cond for up to 30 seconds.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last: %s", what, last)
}
