// Command http measures how far trailpass's authenticated read is from the HTTP
// ceiling of this machine. It builds cmd/trailpass, creates a user with the CLI,
// starts `trailpass serve` as a child process (SQLite in a temporary directory,
// or a scratch schema in the PostgreSQL at TRAILPASS_TEST_POSTGRES_URL), signs in
// as a mobile client, and drives `GET /api/v1/profile` with the bearer token from
// a separate load-generator process: wrk when it is installed, otherwise this
// program re-executed as a Go client. In the same run it measures a trivial
// net/http handler (this program re-executed as a child, answering a fixed JSON
// body), then prints req/s, p50, p99 and the ratio to the trivial handler.
//
//	go run ./bench/http                              # SQLite and, when the URL is set, PostgreSQL
//	go run ./bench/http -db sqlite -runs 3 -duration 10s
//	go run ./bench/http -pprof /tmp/prof             # also save CPU and alloc profiles of the server
//
// Every figure is the median of -runs runs; each run measures the trivial handler
// right before trailpass, so both see the same machine load. "server CPU/req" is
// the CPU time (user + system) the trailpass process used per request during the
// measurement: on a shared machine it moves much less than req/s. On PostgreSQL
// it leaves out the database server's own CPU.
package main

import (
	"bufio"
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
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trailpass/trailpass/internal/testkit"
)

const password = "Http!Bench-passw0rd"

// result is one measurement by the load generator.
type result struct {
	RPS      float64 `json:"rps"`
	P50, P99 float64 // milliseconds
	Non2xx   int     `json:"non2xx"`
	Errors   int     `json:"errors"`
}

func main() {
	trivial := flag.String("trivial", "", "internal: serve the trivial handler on this address")
	client := flag.String("client", "", "internal: run the Go load generator against this URL")
	token := flag.String("token", "", "internal: bearer token for -client")
	dbs := flag.String("db", "", "comma-separated: sqlite, postgres (default: sqlite, plus postgres when TRAILPASS_TEST_POSTGRES_URL is set)")
	dur := flag.Duration("duration", 10*time.Second, "length of each measurement")
	conns := flag.Int("c", 64, "connections")
	threads := flag.Int("t", 2, "load-generator threads (wrk -t)")
	runs := flag.Int("runs", 3, "runs; the median is reported")
	gen := flag.String("gen", "auto", "load generator: wrk, go, or auto (wrk when installed)")
	logLevel := flag.String("log-level", "info", "TRAILPASS_LOG_LEVEL of the server (info writes the access log, to a file)")
	pprofDir := flag.String("pprof", "", "save CPU and allocation profiles of the server's last run here")
	flag.Parse()

	switch {
	case *trivial != "":
		serveTrivial(*trivial)
		return
	case *client != "":
		r := goClient(*client, *token, *conns, *dur)
		json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	if *dur > 2*time.Minute || *runs < 1 || *runs > 9 {
		log.Fatal("keep -duration <= 2m and 1 <= -runs <= 9")
	}
	if *gen == "auto" {
		*gen = "go"
		if _, err := exec.LookPath("wrk"); err == nil {
			*gen = "wrk"
		}
	}
	if *dbs == "" {
		*dbs = "sqlite"
		if os.Getenv(testkit.PostgresEnv) != "" {
			*dbs += ",postgres"
		}
	}
	self, err := os.Executable()
	check(err)
	work, err := os.MkdirTemp("", "trailpass-bench-http-")
	check(err)
	defer os.RemoveAll(work)
	bin := filepath.Join(work, "trailpass")
	run("go", "build", "-o", bin, "./cmd/trailpass")
	lg := loadGen{kind: *gen, self: self, conns: *conns, threads: *threads, dur: *dur, dir: work}

	fmt.Printf("machine: nproc=%s, %s; load average at start: %s\n", strings.TrimSpace(out("nproc")), cpuModel(), loadAvg())
	fmt.Printf("GET /api/v1/profile, bearer token, %s, %d connections, %d threads, %s per measurement, median of %d runs\n\n",
		*gen, *conns, *threads, *dur, *runs)
	fmt.Printf("| db | run | load avg | trivial req/s | trailpass req/s | ratio | p50 | p99 | trivial p99 | server CPU/req |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	failed := false
	for _, db := range strings.Split(*dbs, ",") {
		var ratios []float64
		var tps, rps, p50s, p99s, cpus []float64
		for i := 1; i <= *runs; i++ {
			la := loadAvg()
			triv := measureTrivial(self, lg)
			srv := startTrailpass(bin, db, *logLevel, work, *pprofDir != "" && i == *runs)
			var prof *profiler
			if srv.metrics != "" && *pprofDir != "" {
				prof = startProfiles(srv.metrics, *dur)
			}
			target := srv.base + "/api/v1/profile"
			lg.once(target, srv.token, time.Second) // warm-up
			cpu0 := cpuTime(srv.pid)
			r := lg.once(target, srv.token, lg.dur)
			cpuPerReq := float64((cpuTime(srv.pid) - cpu0).Microseconds()) / (r.RPS * lg.dur.Seconds())
			if prof != nil {
				prof.save(*pprofDir, db)
			}
			srv.stop()
			if r.Non2xx > 0 || r.Errors > 0 {
				failed = true
			}
			ratio := r.RPS / triv.RPS
			ratios, tps, rps, p50s, p99s = append(ratios, ratio), append(tps, triv.RPS), append(rps, r.RPS), append(p50s, r.P50), append(p99s, r.P99)
			cpus = append(cpus, cpuPerReq)
			fmt.Printf("| %s | %d | %s | %.0f | %.0f | %.1f %% | %.2f ms | %.2f ms | %.2f ms | %.0f µs |\n", db, i, la, triv.RPS, r.RPS, 100*ratio, r.P50, r.P99, triv.P99, cpuPerReq)
			if r.Non2xx > 0 || r.Errors > 0 {
				fmt.Printf("  (%d non-2xx answers, %d socket errors)\n", r.Non2xx, r.Errors)
			}
		}
		fmt.Printf("| **%s median** | | | %.0f | %.0f | **%.1f %%** | %.2f ms | **%.2f ms** | | %.0f µs |\n", db, median(tps), median(rps), 100*median(ratios), median(p50s), median(p99s), median(cpus))
	}
	fmt.Printf("\nload average at end: %s\n", loadAvg())
	if failed {
		fmt.Println("FAILED: non-2xx answers or errors")
		os.Exit(1)
	}
}

// serveTrivial is the ceiling: a net/http server whose handler writes a fixed
// JSON body, with nothing else in the way.
func serveTrivial(addr string) {
	body := []byte(`{"id":1,"name":"trivial"}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	log.Fatal(http.ListenAndServe(addr, h))
}

func measureTrivial(self string, lg loadGen) result {
	port := freePort()
	cmd := exec.Command(self, "-trivial", fmt.Sprintf("127.0.0.1:%d", port))
	check(cmd.Start())
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitFor(base+"/", nil)
	return lg.run(base+"/", "")
}

type server struct {
	base, metrics, token string
	pid                  int
	stop                 func()
}

// startTrailpass starts `trailpass serve` on a fresh database with one user and
// signs in as that user.
func startTrailpass(bin, db, logLevel, work string, pprof bool) *server {
	dir, err := os.MkdirTemp(work, db+"-")
	check(err)
	env := append(os.Environ(), "TRAILPASS_DATA_DIR="+dir, "TRAILPASS_ADMIN_PASSWORD="+password, "TRAILPASS_LOG_LEVEL="+logLevel)
	dropSchema := func() {}
	if db == "postgres" {
		u, drop, err := testkit.CreatePostgresSchema(os.Getenv(testkit.PostgresEnv), "tp_http_")
		check(err)
		env, dropSchema = append(env, "TRAILPASS_DATABASE_URL="+u), func() { drop() }
	} else if db != "sqlite" {
		log.Fatalf("unknown -db %q", db)
	}
	cmd := exec.Command(bin, "user", "create", "--username", "rider", "--email", "rider@example.com", "--password-stdin")
	cmd.Env, cmd.Stdin = env, strings.NewReader(password+"\n")
	if b, err := cmd.CombinedOutput(); err != nil {
		log.Fatalf("user create: %v\n%s", err, b)
	}
	port := freePort()
	s := &server{base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	if pprof {
		mport := freePort()
		s.metrics = fmt.Sprintf("http://127.0.0.1:%d", mport)
		env = append(env, fmt.Sprintf("TRAILPASS_METRICS_LISTEN=127.0.0.1:%d", mport), "TRAILPASS_PPROF=true")
	}
	srv := exec.Command(bin, "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	srv.Env = env
	// The access log goes to a file, as it would go to a journal in production.
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	check(err)
	srv.Stdout, srv.Stderr = logf, logf
	check(srv.Start())
	s.pid = srv.Process.Pid
	s.stop = func() {
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
		logf.Close()
		dropSchema()
	}
	waitFor(s.base+"/readyz", func() string { b, _ := os.ReadFile(logf.Name()); return string(b) })

	form := url.Values{"grant_type": {"password"}, "username": {"rider"}, "password": {password}}
	req, _ := http.NewRequest("POST", s.base+"/api/v1/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Client-Type", "mobile")
	resp, err := http.DefaultClient.Do(req)
	check(err)
	var tok struct {
		Access string `json:"access_token"`
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if json.Unmarshal(b, &tok); tok.Access == "" {
		log.Fatalf("sign-in: %d %s", resp.StatusCode, b)
	}
	s.token = tok.Access
	return s
}

// loadGen runs the load generator as its own process.
type loadGen struct {
	kind           string
	self, dir      string
	conns, threads int
	dur            time.Duration
}

var wrkScript = `
done = function(summary, latency, requests)
  io.write(string.format("JSON {\"rps\":%f,\"P50\":%f,\"P99\":%f,\"non2xx\":%d,\"errors\":%d}\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
`

func (lg loadGen) run(target, token string) result {
	// A short warm-up, so connections, caches and the pool are in place.
	lg.once(target, token, time.Second)
	return lg.once(target, token, lg.dur)
}

func (lg loadGen) once(target, token string, dur time.Duration) result {
	var cmd *exec.Cmd
	if lg.kind == "wrk" {
		script := filepath.Join(lg.dir, "report.lua")
		check(os.WriteFile(script, []byte(wrkScript), 0o600))
		args := []string{"-t", strconv.Itoa(lg.threads), "-c", strconv.Itoa(lg.conns), "-d", fmt.Sprintf("%ds", int(dur.Seconds())),
			"-s", script, "-H", "X-Client-Type: mobile"}
		if token != "" {
			args = append(args, "-H", "Authorization: Bearer "+token)
		}
		cmd = exec.Command("wrk", append(args, target)...)
	} else {
		cmd = exec.Command(lg.self, "-client", target, "-token", token, "-c", strconv.Itoa(lg.conns), "-duration", dur.String())
	}
	b, err := cmd.Output()
	if err != nil {
		log.Fatalf("load generator: %v\n%s", err, b)
	}
	line := b
	if i := bytes.Index(b, []byte("JSON ")); i >= 0 {
		line = b[i+5:]
	}
	var r result
	if err := json.Unmarshal(bytes.TrimSpace(firstLine(line)), &r); err != nil {
		log.Fatalf("load generator output: %v\n%s", err, b)
	}
	return r
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// goClient is the Go load generator: conns goroutines, each with its own
// keep-alive connection, sending requests back to back for dur.
func goClient(target, token string, conns int, dur time.Duration) result {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var mu sync.Mutex
	var lat []time.Duration
	var non2xx, errs int
	deadline := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			var bad, failed int
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest("GET", target, nil)
				req.Header.Set("X-Client-Type", "mobile")
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					failed++
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(t0))
				if resp.StatusCode/100 != 2 {
					bad++
				}
			}
			mu.Lock()
			lat, non2xx, errs = append(lat, mine...), non2xx+bad, errs+failed
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(p*float64(len(lat)-1))]) / 1e6
	}
	return result{RPS: float64(len(lat)) / elapsed.Seconds(), P50: pct(0.50), P99: pct(0.99), Non2xx: non2xx, Errors: errs}
}

// profiler fetches a CPU profile covering the measurement and an allocation
// profile after it, from the server's metrics listener.
type profiler struct {
	base string
	cpu  chan []byte
}

func startProfiles(base string, dur time.Duration) *profiler {
	p := &profiler{base: base, cpu: make(chan []byte, 1)}
	go func() {
		// Starts after the 1 s warm-up, ends before the measurement does.
		time.Sleep(1500 * time.Millisecond)
		secs := max(int(dur.Seconds())-1, 1)
		p.cpu <- fetch(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, secs))
	}()
	return p
}

func (p *profiler) save(dir, db string) {
	check(os.MkdirAll(dir, 0o755))
	check(os.WriteFile(filepath.Join(dir, db+".cpu.pprof"), <-p.cpu, 0o644))
	check(os.WriteFile(filepath.Join(dir, db+".allocs.pprof"), fetch(p.base+"/debug/pprof/allocs"), 0o644))
	fmt.Printf("  profiles: %s/%s.{cpu,allocs}.pprof\n", dir, db)
}

func fetch(u string) []byte {
	resp, err := http.Get(u)
	check(err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	check(err)
	if resp.StatusCode != 200 {
		log.Fatalf("%s: %d %s", u, resp.StatusCode, b)
	}
	return b
}

func waitFor(u string, logs func() string) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	msg := ""
	if logs != nil {
		msg = logs()
	}
	log.Fatalf("%s did not answer 200:\n%s", u, msg)
}

// cpuTime is the user and system CPU time pid has used (/proc/pid/stat): the
// server's CPU per request is a figure the machine's other load barely moves.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	check(err)
	// Fields after the parenthesised command name; utime and stime are the
	// 14th and 15th fields of the line, in clock ticks (100 a second on Linux).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

var loadRE = regexp.MustCompile(`load average: (.*)$`)

func loadAvg() string {
	if m := loadRE.FindStringSubmatch(strings.TrimSpace(out("uptime"))); m != nil {
		return m[1]
	}
	return "?"
}

func out(name string, args ...string) string {
	b, _ := exec.Command(name, args...).Output()
	return string(b)
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func run(name string, args ...string) {
	if b, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		log.Fatalf("%s %v: %v\n%s", name, args, err, b)
	}
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
