// Command auth measures trailpass's authentication hot paths over real HTTP on
// loopback: authenticated-request throughput (GET /api/v1/profile/sessions with a
// valid token) and password login latency at 1 and 16 concurrent logins, with the
// production argon2id parameters. It prints throughput, latency percentiles and
// the process's peak memory.
//
//	go run ./bench/auth                 # SQLite in a temporary directory
//	go run ./bench/auth -db postgres    # PostgreSQL at TRAILPASS_TEST_POSTGRES_URL (own schema)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/trailpass/trailpass/bench/internal/benchkit"
	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/store"
)

func main() {
	db := flag.String("db", "sqlite", "sqlite or postgres")
	dur := flag.Duration("duration", 5*time.Second, "how long to run the read load")
	readers := flag.Int("readers", 8, "concurrent clients for the read load")
	flag.Parse()

	ctx := context.Background()
	dbURL, dataDir, cleanup := benchkit.Database(*db, "tp_bench_")
	defer cleanup()
	st, err := store.Open(ctx, dbURL, dataDir)
	benchkit.Check(err)
	defer st.Close()
	_, err = st.Migrate(ctx)
	benchkit.Check(err)

	srv := httptest.NewUnstartedServer(nil)
	pub, _ := url.Parse("http://" + srv.Listener.Addr().String())
	a := benchkit.App(st, dataDir, pub)
	accounts := a.Accounts
	srv.Config.Handler = a.Server.Handler()
	srv.Start()
	defer srv.Close()

	const password = "Bench!Passw0rd"
	for i := 0; i < 16; i++ {
		_, err := accounts.CreateUser(ctx, account.NewUser{Username: fmt.Sprintf("rider%d", i), Email: fmt.Sprintf("rider%d@example.com", i), Password: password})
		benchkit.Check(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	n := 0
	login := func(user string) (string, time.Duration, int) {
		n++
		form := url.Values{"username": {user}, "password": {password}}
		req, _ := http.NewRequest("POST", pub.String()+"/api/v1/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Client-Type", "mobile")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255))
		start := time.Now()
		resp, err := client.Do(req)
		benchkit.Check(err)
		defer resp.Body.Close()
		var body struct {
			AccessToken string `json:"access_token"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		return body.AccessToken, time.Since(start), resp.StatusCode
	}

	fmt.Printf("trailpass auth benchmark: database %s, %d CPUs, GOMAXPROCS %d, %s\n", *db, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())

	// Authenticated reads.
	token, _, code := login("rider0")
	if code != 200 || token == "" {
		log.Fatalf("login failed: %d", code)
	}
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	deadline := time.Now().Add(*dur)
	var wg sync.WaitGroup
	for w := 0; w < *readers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest("GET", pub.String()+"/api/v1/profile/sessions", nil)
				req.Header.Set("X-Client-Type", "mobile")
				req.Header.Set("Authorization", "Bearer "+token)
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					bad++
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					bad++
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	fmt.Printf("GET /api/v1/profile/sessions, %d clients, %s: %d requests, %.0f req/s, p50 %s, p99 %s, errors %d\n",
		*readers, *dur, len(lat), float64(len(lat))/dur.Seconds(), pct(lat, 50), pct(lat, 99), errs)

	// Logins at 1 and 16 concurrent.
	for _, conc := range []int{1, 16} {
		perWorker := 20
		if conc == 16 {
			perWorker = 8
		}
		var lats []time.Duration
		bad := 0
		start := time.Now()
		var wg sync.WaitGroup
		for w := 0; w < conc; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perWorker; i++ {
					mu.Lock()
					user := fmt.Sprintf("rider%d", w)
					mu.Unlock()
					_, d, code := login(user)
					mu.Lock()
					lats = append(lats, d)
					if code != 200 {
						bad++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		el := time.Since(start)
		fmt.Printf("POST /api/v1/token, %2d concurrent: %d logins in %s (%.1f logins/s), p50 %s, p99 %s, errors %d\n",
			conc, len(lats), el.Round(time.Millisecond), float64(len(lats))/el.Seconds(), pct(lats, 50), pct(lats, 99), bad)
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("peak RSS of the process (server and load generator): %.1f MiB; Go heap in use at end: %.1f MiB\n",
		float64(ru.Maxrss)/1024, float64(ms.HeapInuse)/(1<<20))
}

// pct is the p-th percentile of d at the precision this benchmark reports.
func pct(d []time.Duration, p int) time.Duration {
	return benchkit.Percentile(d, p, 10*time.Microsecond)
}
