// Command backupcodes measures whether one signed-in user regenerating backup
// codes in a loop slows another user's sign-in (issue 19.3). Over real HTTP on
// loopback, with the production argon2id parameters and hasher bound, it
// measures one user's password logins (one at a time) unloaded, while a second
// user (MFA on, freshly signed in) sends POST /api/v1/profile/mfa/backup-codes
// from 16 parallel loops, and, for reference, while the same loops send a cheap
// authenticated read (GET /api/v1/profile/mfa/backup-codes/status): the floor any
// 16 busy loops set on a small machine. It prints p50/p99 of the logins and
// what the loops got back.
//
//	go run ./bench/backupcodes                # SQLite in a temporary directory
//	go run ./bench/backupcodes -db postgres   # PostgreSQL at TRAILPASS_TEST_POSTGRES_URL (own schema)
//	go run ./bench/backupcodes -nolimit       # lift the per-user regeneration limits (nolimit.go)
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
	"sync/atomic"
	"time"

	"github.com/trailpass/trailpass/bench/internal/benchkit"
	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/mfa"
	"github.com/trailpass/trailpass/internal/store"
)

// liftLimits, when set (by nolimit.go), switches off the per-user regeneration
// limits, so the benchmark shows the cost of the work itself.
var liftLimits func()

const password = "Bench!Passw0rd"

func main() {
	db := flag.String("db", "sqlite", "sqlite or postgres")
	logins := flag.Int("logins", 25, "logins measured per phase and round")
	rounds := flag.Int("rounds", 4, "rounds of the three phases")
	loops := flag.Int("loops", 16, "parallel regeneration loops")
	nolimit := flag.Bool("nolimit", false, "lift the regeneration limits (needs nolimit.go)")
	flag.Parse()
	if *nolimit {
		if liftLimits == nil {
			log.Fatal("-nolimit: this build has no regeneration limits to lift")
		}
		liftLimits()
	}

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
	accounts, mfas := a.Accounts, a.MFA
	srv.Config.Handler = a.Server.Handler()
	srv.Start()
	defer srv.Close()

	_, err = accounts.CreateUser(ctx, account.NewUser{Username: "rider", Email: "rider@example.com", Password: password})
	benchkit.Check(err)
	hammer, err := accounts.CreateUser(ctx, account.NewUser{Username: "hammer", Email: "hammer@example.com", Password: password})
	benchkit.Check(err)
	setup, err := mfas.BeginSetup(ctx, account.Operator(), hammer)
	benchkit.Check(err)
	key, err := mfa.DecodeSecret(setup.Secret)
	benchkit.Check(err)
	backup, err := mfas.Enable(ctx, account.Operator(), hammer.ID, mfa.Code(key, time.Now(), mfa.SHA1, 6, 30*time.Second))
	benchkit.Check(err)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var addr atomic.Int64
	post := func(path, ct string, body io.Reader, hdr ...string) (int, map[string]any) {
		method := "POST"
		if body == nil {
			method = "GET"
		}
		req, _ := http.NewRequest(method, pub.String()+path, body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("X-Client-Type", "mobile")
		n := addr.Add(1)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		benchkit.Check(err)
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	login := func(user string) (int, map[string]any) {
		form := url.Values{"username": {user}, "password": {password}}
		return post("/api/v1/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	}

	// The hammering user signs in with a backup code, so the session counts as
	// recently authenticated and may regenerate.
	code, m := login("hammer")
	if code != 200 || m["mfa_ticket"] == nil {
		log.Fatalf("hammer login: %d %v", code, m)
	}
	b, _ := json.Marshal(map[string]any{"username": "hammer", "mfa_code": backup[0], "mfa_ticket": m["mfa_ticket"]})
	code, m = post("/api/v1/mfa/verify", "application/json", strings.NewReader(string(b)))
	token, _ := m["access_token"].(string)
	if code != 200 || token == "" {
		log.Fatalf("hammer MFA step: %d %v", code, m)
	}

	measure := func(n int) []time.Duration {
		var lat []time.Duration
		for i := 0; i < n; i++ {
			start := time.Now()
			if code, m := login("rider"); code != 200 {
				log.Fatalf("rider login: %d %v", code, m)
			}
			lat = append(lat, time.Since(start))
		}
		return lat
	}
	// loaded measures n logins while *loops goroutines send path (POST, or GET
	// when post is false) as the hammering user, and counts their answers.
	var mu sync.Mutex
	statuses := map[string]map[int]int{"regenerate": {}, "read": {}}
	var regen []time.Duration
	loaded := func(n int, kind string) []time.Duration {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < *loops; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					start := time.Now()
					var code int
					if kind == "read" {
						code, _ = post("/api/v1/profile/mfa/backup-codes/status", "", nil, "Authorization", "Bearer "+token)
					} else {
						code, _ = post("/api/v1/profile/mfa/backup-codes", "application/json", strings.NewReader("{}"), "Authorization", "Bearer "+token)
					}
					d := time.Since(start)
					mu.Lock()
					statuses[kind][code]++
					if kind == "regenerate" && (code == 200 || code == 201) {
						regen = append(regen, d)
					}
					mu.Unlock()
				}
			}()
		}
		time.Sleep(100 * time.Millisecond) // let the loops get going
		lat := measure(n)
		close(stop)
		wg.Wait()
		return lat
	}

	fmt.Printf("trailpass backup-code regeneration vs sign-in: database %s, %d CPUs, GOMAXPROCS %d, %s, limits lifted: %v\n",
		*db, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), *nolimit)
	measure(10) // warm up connections, caches and the database
	// The phases alternate in rounds, so that other work on the machine, which
	// comes and goes, weighs on all of them alike.
	var idle, withRegen, withRead []time.Duration
	for r := 0; r < *rounds; r++ {
		idle = append(idle, measure(*logins)...)
		withRegen = append(withRegen, loaded(*logins, "regenerate")...)
		withRead = append(withRead, loaded(*logins, "read")...)
	}
	row := func(name string, lat []time.Duration) {
		fmt.Printf("%-44s %4d logins, p50 %8s, p99 %8s (p50 %+5.0f%%, p99 %+5.0f%% of unloaded)\n", name, len(lat), pct(lat, 50), pct(lat, 99),
			100*(float64(pct(lat, 50))/float64(pct(idle, 50))-1), 100*(float64(pct(lat, 99))/float64(pct(idle, 99))-1))
	}
	row("other user's login, unloaded:", idle)
	row(fmt.Sprintf("  while %d loops regenerate backup codes:", *loops), withRegen)
	row(fmt.Sprintf("  while %d loops read the codes' status:", *loops), withRead)
	fmt.Printf("loop answers: regenerate %v (successful p50 %s), status read %v\n", statuses["regenerate"], pct(regen, 50), statuses["read"])
}

// pct is the p-th percentile of d at the precision this benchmark reports.
func pct(d []time.Duration, p int) time.Duration {
	return benchkit.Percentile(d, p, 100*time.Microsecond)
}
