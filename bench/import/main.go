// Command import benchmarks the import: for each size it seeds a user with that
// many activities into a temporary SQLite database and exports the archive (in
// children), then imports the archive into a fresh account on SQLite and, when
// -postgres is set, on PostgreSQL, each in a child process, and prints
// throughput, how long the write transaction held its lock, the child's peak
// RSS; then it imports again while another user of the same server signs in,
// one sign-in after another (auth.Service.Login with the production argon2id
// parameters), and prints their latency beside the same figure with no import.
//
//	go run ./bench/import [-sizes 1000,10000] [-postgres URL] [-min-duration 2m] [-max-duration 6m] [-cpuprofile DIR]
//
// With -cpuprofile DIR, each import child writes its CPU profile to
// DIR/import-<engine>-<size>-<alone|sign-ins>.pprof (read it with go tool
// pprof -top -tagfocus phase=import).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/trailpass/trailpass/bench/internal/benchkit"
	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/app"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/seed"
	"github.com/trailpass/trailpass/internal/store"
)

// result is what a child prints on its last line.
type result struct {
	Archive    int64   `json:"archive"` // archive bytes
	Activities int     `json:"activities"`
	Seconds    float64 `json:"seconds"`
	LockSecs   float64 `json:"lock_seconds"`
	// Sign-in latency in ms of another user: idle (before the import) and
	// during the import, p50 and p99, and how many sign-ins ran during it.
	IdleP50, IdleP99, SignP50, SignP99 float64
	Signs                              int
	// Wall seconds of the import's first pass (before the write transaction).
	FirstPass float64 `json:"first_pass"`
	// CPU seconds of the import child (user+system), the sign-ins included.
	CPU float64 `json:"cpu"`
}

func main() {
	child := flag.String("child", "", "internal: prepare or import")
	dir := flag.String("dir", "", "internal: work directory")
	db := flag.String("db", "", "internal: database URL of the import")
	n := flag.Int("n", 0, "internal: activities")
	sizes := flag.String("sizes", "1000,10000", "activity counts to benchmark")
	pg := flag.String("postgres", os.Getenv("TRAILPASS_BENCH_POSTGRES_URL"), "PostgreSQL URL to import into as well")
	minDur := flag.Duration("min-duration", 2*time.Minute, "shortest seeded activity")
	maxDur := flag.Duration("max-duration", 6*time.Minute, "longest seeded activity")
	cpuProfile := flag.String("cpuprofile", "", "a directory for the import children's CPU profiles (internal: the child's profile file)")
	signIns := flag.Bool("signins", true, "internal: another user signs in while the import runs")
	flag.Parse()
	if *cpuProfile != "" && *child == "import" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	var err error
	if *child != "" {
		err = runChild(*child, *dir, *db, *n, *signIns, *minDur, *maxDur)
	} else {
		err = runParent(*sizes, *pg, *cpuProfile, *minDur, *maxDur)
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func runParent(sizes, pg, profDir string, minDur, maxDur time.Duration) error {
	if profDir != "" {
		if err := os.MkdirAll(profDir, 0o755); err != nil {
			return err
		}
	}
	fmt.Printf("activities %s-%s each; MiB/s on archive bytes; lock = write transaction open; RSS = getrusage maxrss of the import child\n\n", minDur, maxDur)
	fmt.Printf("%-10s %-8s %-8s %9s %9s %10s %9s %9s %9s  %s\n", "activities", "engine", "mode", "zip MiB", "import s", "act/s", "MiB/s", "lock s", "peak RSS",
		"sign-in ms idle p50/p99, during import p50/p99 (n); first pass s / lock s / after commit s; child CPU s")
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		dir, err := os.MkdirTemp("", "trailpass-bench-import-")
		if err != nil {
			return err
		}
		if _, _, err := spawn("prepare", dir, "", "", n, false, minDur, maxDur); err != nil {
			return err
		}
		engines := []string{"sqlite"}
		if pg != "" {
			engines = append(engines, "postgres")
		}
		for _, engine := range engines {
			// First the import alone (its throughput and lock), then another
			// with a user signing in beside it (their latency; argon2id takes
			// most of a core meanwhile, so the import's own figures drop).
			for _, signIns := range []bool{false, true} {
				prof, mode := "", "alone"
				if signIns {
					mode = "sign-ins"
				}
				if profDir != "" {
					prof = filepath.Join(profDir, fmt.Sprintf("import-%s-%d-%s.pprof", engine, n, mode))
				}
				db := pg
				if engine == "sqlite" {
					db = "sqlite:" + filepath.Join(dir, "import-"+mode+".db") // each into an empty database
				}
				r, rss, err := spawn("import", dir, db, prof, n, signIns, minDur, maxDur)
				if err != nil {
					return err
				}
				mib := float64(r.Archive) / (1 << 20)
				signs := "-"
				if signIns {
					signs = fmt.Sprintf("%.0f/%.0f, %.0f/%.0f (%d)", r.IdleP50, r.IdleP99, r.SignP50, r.SignP99, r.Signs)
				}
				fmt.Printf("%-10d %-8s %-8s %9.1f %9.2f %10.0f %9.1f %9.2f %7.1f M  %s; %.2f/%.2f/%.2f; %.1f\n", n, engine, mode, mib, r.Seconds,
					float64(r.Activities)/r.Seconds, mib/r.Seconds, r.LockSecs, rss, signs,
					r.FirstPass, r.LockSecs, r.Seconds-r.FirstPass-r.LockSecs, r.CPU)
			}
		}
		if os.Getenv("TRAILPASS_BENCH_KEEP") == "" {
			os.RemoveAll(dir)
		} else {
			fmt.Println("kept", dir)
		}
	}
	return nil
}

// spawn runs this program as a child and returns its result and peak RSS in MiB.
// prof, when set, is where the child writes its CPU profile.
func spawn(mode, dir, db, prof string, n int, signIns bool, minDur, maxDur time.Duration) (result, float64, error) {
	exe, err := os.Executable()
	if err != nil {
		return result{}, 0, err
	}
	cmd := exec.Command(exe, "-child", mode, "-dir", dir, "-db", db, "-n", strconv.Itoa(n), "-signins="+strconv.FormatBool(signIns),
		"-min-duration", minDur.String(), "-max-duration", maxDur.String())
	if prof != "" {
		cmd.Args = append(cmd.Args, "-cpuprofile", prof)
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, 0, fmt.Errorf("%s child: %w", mode, err)
	}
	var r result
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return r, 0, fmt.Errorf("%s child output %q: %w", mode, out, err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return r, float64(ru.Maxrss) / 1024, nil
}

func newUser(ctx context.Context, st *store.Store, name string) (*account.User, error) {
	u := &account.User{Name: name, Username: name, Email: name + "@example.com", PreferredLanguage: "us",
		Gender: 1, Units: 1, AccessType: 1, Active: true, FirstDayOfWeek: 1, Currency: 1,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	return u, st.CreateUser(ctx, u)
}

func openStore(ctx context.Context, url, dir string) (*store.Store, error) {
	st, err := store.Open(ctx, url, dir)
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func runChild(mode, dir, db string, n int, signIns bool, minDur, maxDur time.Duration) error {
	ctx := context.Background()
	var r result
	switch mode {
	case "prepare":
		st, err := openStore(ctx, "sqlite:"+filepath.Join(dir, "source.db"), dir)
		if err != nil {
			return err
		}
		defer st.Close()
		files, err := blob.OpenDir(filepath.Join(dir, "source-files"))
		if err != nil {
			return err
		}
		u, err := newUser(ctx, st, "bench")
		if err != nil {
			return err
		}
		if _, err := seed.Run(ctx, st, files, u.ID, seed.Config{Activities: n, Seed: 42, MinDuration: minDur, MaxDuration: maxDur}); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(dir, "export.zip"))
		if err != nil {
			return err
		}
		x := &portability.Exporter{Store: st, Blobs: files, Version: "bench"}
		if _, err := x.Export(ctx, u.ID, f); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	case "import":
		st, err := openStore(ctx, db, dir)
		if err != nil {
			return err
		}
		defer st.Close()
		files, err := blob.OpenDir(filepath.Join(dir, "files-"+strconv.FormatInt(time.Now().UnixNano(), 36)))
		if err != nil {
			return err
		}
		u, err := newUser(ctx, st, "dst"+strconv.FormatInt(time.Now().UnixNano(), 36))
		if err != nil {
			return err
		}
		f, err := os.Open(filepath.Join(dir, "export.zip"))
		if err != nil {
			return err
		}
		defer f.Close()
		fi, _ := f.Stat()
		a := benchkit.AppOver(st, files, &url.URL{Scheme: "http", Host: "127.0.0.1"})
		signIn, err := signer(ctx, a)
		if err != nil {
			return err
		}
		var idle []time.Duration
		for range 20 {
			d, err := signIn()
			if err != nil {
				return err
			}
			idle = append(idle, d)
		}
		// Another user signs in, one sign-in after another, while the import runs.
		done := make(chan struct{})
		signs := make(chan []time.Duration)
		go func() {
			var lat []time.Duration
			if !signIns {
				<-done
				signs <- lat
				return
			}
			for {
				select {
				case <-done:
					signs <- lat
					return
				default:
				}
				if d, err := signIn(); err == nil {
					lat = append(lat, d)
				} else {
					fmt.Fprintln(os.Stderr, "sign-in:", err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
		start := time.Now()
		var firstPass time.Duration
		progress := func(p portability.Progress) {
			if p.Stage == portability.StageWriting && firstPass == 0 {
				firstPass = time.Since(start)
			}
		}
		// The label marks the import's samples (its workers inherit it) in
		// a -cpuprofile: go tool pprof -tagfocus phase=import.
		var res *portability.Result
		pprof.Do(ctx, pprof.Labels("phase", "import"), func(ctx context.Context) {
			res, err = a.Importer.Import(ctx, u.ID, f, fi.Size(), portability.Options{Progress: progress})
		})
		close(done)
		during := <-signs
		if err != nil {
			return err
		}
		r = result{Archive: fi.Size(), Activities: res.Imported["activities"], Seconds: res.Duration.Seconds(),
			LockSecs: res.LockHeld.Seconds(), IdleP50: ms(idle, 50), IdleP99: ms(idle, 99),
			SignP50: ms(during, 50), SignP99: ms(during, 99), Signs: len(during), FirstPass: firstPass.Seconds()}
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			r.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		}
	default:
		return fmt.Errorf("unknown child mode %q", mode)
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// signer creates another user with a password and returns a sign-in of it
// through the auth service, as POST /api/v1/token runs it.
func signer(ctx context.Context, a *app.App) (func() (time.Duration, error), error) {
	accounts, svc := a.Accounts, a.Auth
	name := "signer" + strconv.FormatInt(time.Now().UnixNano(), 36)
	const password = "Bench!Passw0rd"
	if _, err := accounts.CreateUser(ctx, account.NewUser{Username: name, Email: name + "@example.com", Password: password}); err != nil {
		return nil, err
	}
	n := 0
	return func() (time.Duration, error) {
		n++
		start := time.Now()
		_, err := svc.Login(ctx, name, password, "mobile", auth.Device{IP: fmt.Sprintf("10.1.%d.%d", n>>8&255, n&255)})
		return time.Since(start), err
	}, nil
}

// ms is the p-th percentile of d in milliseconds.
func ms(d []time.Duration, p int) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return float64(d[(len(d)-1)*p/100]) / float64(time.Millisecond)
}
