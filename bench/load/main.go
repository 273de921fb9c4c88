// Command load runs a bounded, paced load test against a real trailpass process
// on loopback: a mix of authenticated reads (GET /api/v1/profile and
// /profile/sessions), profile writes (PUT /api/v1/profile/privacy), token
// refreshes and password logins. It builds the binary, runs it as a child
// process on SQLite or PostgreSQL (its own schema), and prints throughput,
// p50/p99 latency per kind, errors (any non-2xx or transport error) and the
// server's peak memory (VmHWM of the child, so the load generator is not in it).
//
//	go run ./bench/load                                   # SQLite, 20 s at 100 requests/s
//	go run ./bench/load -db postgres -duration 20s -rate 200  # PostgreSQL at TRAILPASS_TEST_POSTGRES_URL
//
// It exits non-zero when any request failed.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/trailpass/trailpass/bench/internal/benchkit"
)

const (
	password = "L0ad!Passw0rd-bench"
	users    = 4
)

// kinds of request in the mix, with their weights out of 100.
var mix = []struct {
	kind   string
	weight int
}{
	{"read_profile", 40},
	{"read_sessions", 20},
	{"write_privacy", 20},
	{"refresh", 15},
	{"login", 5},
}

func main() {
	db := flag.String("db", "sqlite", "sqlite or postgres (TRAILPASS_TEST_POSTGRES_URL, own schema)")
	dur := flag.Duration("duration", 20*time.Second, "how long to send load (bounded: at most 5m)")
	rate := flag.Int("rate", 100, "requests per second to send, paced")
	workers := flag.Int("workers", 32, "concurrent clients, each with its own session and address")
	flag.Parse()
	if *dur > 5*time.Minute || *rate < 1 || *rate > 5000 || *workers < 1 {
		log.Fatal("keep -duration <= 5m, 1 <= -rate <= 5000, -workers >= 1")
	}

	dbURL, dataDir, cleanup := benchkit.Database(*db, "tp_load_")
	defer cleanup()
	bin := filepath.Join(dataDir, "trailpass")
	run("go", "build", "-o", bin, "./cmd/trailpass")
	env := append(os.Environ(), "TRAILPASS_DATABASE_URL="+dbURL, "TRAILPASS_DATA_DIR="+dataDir,
		"TRAILPASS_ADMIN_PASSWORD="+password, "TRAILPASS_TRUSTED_PROXIES=127.0.0.1/32", "TRAILPASS_LOG_LEVEL=warn")
	for i := 0; i < users; i++ {
		cmd := exec.Command(bin, "user", "create", "--username", fmt.Sprintf("rider%d", i), "--email", fmt.Sprintf("rider%d@example.com", i), "--password-stdin")
		cmd.Env, cmd.Stdin = env, strings.NewReader(password+"\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			log.Fatalf("user create: %v\n%s", err, out)
		}
	}
	port := freePort()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	srv := exec.Command(bin, "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	srv.Env = env
	var srvLog bytes.Buffer
	srv.Stderr = &srvLog
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	waitReady(base, &srvLog)

	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *workers * 2}}
	clients := make([]*client, *workers)
	for i := range clients {
		clients[i] = &client{hc: hc, id: i, base: base, user: fmt.Sprintf("rider%d", i%users), ip: fmt.Sprintf("198.18.%d.%d", i/250, i%250+1)}
		if code, err := clients[i].login(clients[i].ip); code != 200 || err != nil {
			log.Fatalf("initial login: %d %v", code, err)
		}
	}

	res := newResults()
	ticks := make(chan string, *workers)
	var late atomic.Int64
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for kind := range ticks {
				start := time.Now()
				code, err := c.do(kind)
				res.add(kind, time.Since(start), code, err)
			}
		}()
	}
	start := time.Now()
	interval := time.Second / time.Duration(*rate)
	next := start
	n := 0
	for time.Since(start) < *dur {
		kind := pick(n)
		n++
		select {
		case ticks <- kind:
		default:
			late.Add(1) // every client busy: the server fell behind the rate
			ticks <- kind
		}
		next = next.Add(interval)
		time.Sleep(time.Until(next))
	}
	close(ticks)
	wg.Wait()
	elapsed := time.Since(start)

	hwm := vmHWM(srv.Process.Pid)
	res.print(*db, elapsed, *rate, *workers, late.Load(), hwm)
	if strings.Contains(srvLog.String(), `"status":5`) || res.failed() {
		fmt.Println("FAILED: errors under load")
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
		cleanup()
		os.Exit(1)
	}
}

// pick spreads the kinds evenly by weight over each run of 100 requests.
func pick(n int) string {
	slot := (n * 37) % 100 // a permutation of 0..99, so kinds interleave
	for _, m := range mix {
		if slot < m.weight {
			return m.kind
		}
		slot -= m.weight
	}
	return mix[0].kind
}

// client is one signed-in mobile app with its own session and address; one
// worker uses it at a time, so refresh rotation never races.
type client struct {
	hc              *http.Client
	id              int
	base, user, ip  string
	access, refresh string
	logins          int
	refreshes       int
}

func (c *client) do(kind string) (int, error) {
	switch kind {
	case "read_profile":
		return c.call("GET", "/api/v1/profile", c.access, nil, c.ip, nil)
	case "read_sessions":
		return c.call("GET", "/api/v1/profile/sessions", c.access, nil, c.ip, nil)
	case "write_privacy":
		body, _ := json.Marshal(map[string]any{"hide_activity_map": time.Now().UnixNano()%2 == 0, "default_activity_visibility": 1})
		return c.call("PUT", "/api/v1/profile/privacy", c.access, body, c.ip, nil)
	case "refresh":
		// Refreshes are limited to 60 a minute per address; at high rates one
		// worker sends more, so they rotate through addresses like logins.
		c.refreshes++
		return c.call("POST", "/api/v1/refresh", c.refresh, nil, fmt.Sprintf("198.20.%d.%d", c.id%250, c.refreshes%250+1), c.keep)
	case "login":
		// A fresh address per login, so the per-address limit does not cap the load.
		c.logins++
		return c.login(fmt.Sprintf("198.19.%d.%d", c.id%250, c.logins%250+1))
	}
	return 0, fmt.Errorf("unknown kind %q", kind)
}

func (c *client) login(ip string) (int, error) {
	form := url.Values{"grant_type": {"password"}, "username": {c.user}, "password": {password}}
	return c.call("POST", "/api/v1/token", "", []byte(form.Encode()), ip, c.keep)
}

// keep stores the tokens of a sign-in or refresh answer.
func (c *client) keep(b []byte) {
	var m struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	if json.Unmarshal(b, &m) == nil && m.Access != "" {
		c.access, c.refresh = m.Access, m.Refresh
	}
}

func (c *client) call(method, path, bearer string, body []byte, ip string, onOK func([]byte)) (int, error) {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Client-Type", "mobile")
	req.Header.Set("X-Forwarded-For", ip)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != nil {
		if path == "/api/v1/token" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 == 2 && onOK != nil {
		onOK(b)
	}
	return resp.StatusCode, nil
}

// results collects latencies and outcomes per kind.
type results struct {
	mu       sync.Mutex
	lat      map[string][]time.Duration
	statuses map[int]int
	errs     map[string]int
	sample   []string
}

func newResults() *results {
	return &results{lat: map[string][]time.Duration{}, statuses: map[int]int{}, errs: map[string]int{}}
}

func (r *results) add(kind string, d time.Duration, code int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lat[kind] = append(r.lat[kind], d)
	r.statuses[code]++
	if err != nil || code/100 != 2 {
		r.errs[kind]++
		if len(r.sample) < 5 {
			r.sample = append(r.sample, fmt.Sprintf("%s: %d %v", kind, code, err))
		}
	}
}

func (r *results) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errs) > 0
}

func (r *results) print(db string, elapsed time.Duration, rate, workers int, late int64, hwmKB int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	total, errs, fivexx := 0, 0, 0
	for code, n := range r.statuses {
		total += n
		if code >= 500 {
			fivexx += n
		}
	}
	for _, n := range r.errs {
		errs += n
	}
	fmt.Printf("trailpass load: db=%s duration=%s target=%d req/s workers=%d go=%s cpus=%d\n", db, elapsed.Round(time.Millisecond), rate, workers, runtime.Version(), runtime.NumCPU())
	fmt.Printf("requests=%d throughput=%.1f req/s errors=%d 5xx=%d late_ticks=%d statuses=%v\n", total, float64(total)/elapsed.Seconds(), errs, fivexx, late, r.statuses)
	fmt.Printf("%-14s %8s %10s %10s %10s %7s\n", "kind", "count", "p50", "p99", "max", "errors")
	for _, m := range mix {
		l := slices.Clone(r.lat[m.kind])
		slices.Sort(l)
		if len(l) == 0 {
			continue
		}
		q := func(p float64) time.Duration { return l[min(len(l)-1, int(p*float64(len(l))))] }
		fmt.Printf("%-14s %8d %10s %10s %10s %7d\n", m.kind, len(l), q(0.50).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), l[len(l)-1].Round(10*time.Microsecond), r.errs[m.kind])
	}
	fmt.Printf("server peak memory (VmHWM of the trailpass process): %.1f MiB\n", float64(hwmKB)/1024)
	for _, s := range r.sample {
		fmt.Println("  error:", s)
	}
}

// vmHWM reads the peak resident set size of pid, in KiB.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%d", &kb)
			return kb
		}
	}
	return -1
}

func waitReady(base string, logs *bytes.Buffer) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	log.Fatalf("trailpass did not become ready:\n%s", logs.String())
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func run(name string, args ...string) {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		log.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}
