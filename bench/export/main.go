// Command export benchmarks the streaming export: for each size it seeds a user
// with that many activities into a temporary SQLite database, exports the
// archive to a file in a child process and prints throughput and the child's
// peak RSS, then prints the ceiling: std archive/zip writing the same entries
// from files already on disk (same compression choices), also in a child.
//
//	go run ./bench/export [-sizes 1000,10000] [-min-duration 2m] [-max-duration 6m]
//	go run ./bench/export -data /tmp/exp -runs 3 -cpuprofile /tmp/prof
//
// -data keeps the seeded databases in DIR/<n> and reuses them on the next
// run; -cpuprofile writes each export child's CPU profile to
// DIR/export-<n>-<run>.pprof (and its allocations to .allocs.pprof). CPU s is the child's user+system time, the
// figure that holds up on a shared machine; cpu s/GiB divides it by the data.
package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	kflate "github.com/klauspost/compress/flate"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/seed"
	"github.com/trailpass/trailpass/internal/store"
)

// result is what a child prints on its last line.
type result struct {
	Bytes   int64   `json:"bytes"` // uncompressed input bytes
	Out     int64   `json:"out"`   // archive size
	Entries int     `json:"entries"`
	Seconds float64 `json:"seconds"`
}

func main() {
	child := flag.String("child", "", "internal: seed, export or ceiling")
	dir := flag.String("dir", "", "internal: work directory")
	n := flag.Int("n", 0, "internal: activities")
	sizes := flag.String("sizes", "1000,10000", "activity counts to benchmark")
	minDur := flag.Duration("min-duration", 2*time.Minute, "shortest seeded activity")
	maxDur := flag.Duration("max-duration", 6*time.Minute, "longest seeded activity")
	keep := flag.Bool("keep", false, "keep the temporary directories")
	data := flag.String("data", "", "seed into DIR/<n> once and reuse it (kept)")
	runs := flag.Int("runs", 1, "export runs per size")
	cpuprofile := flag.String("cpuprofile", "", "write each export child's CPU profile into DIR (child: the file)")
	flag.Parse()
	var err error
	if *child != "" {
		err = runChild(*child, *dir, *n, *minDur, *maxDur, *cpuprofile)
	} else {
		err = runParent(parentOpts{sizes: *sizes, minDur: *minDur, maxDur: *maxDur, keep: *keep,
			data: *data, runs: max(*runs, 1), profDir: *cpuprofile})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type parentOpts struct {
	sizes          string
	minDur, maxDur time.Duration
	keep           bool
	data           string
	runs           int
	profDir        string
}

// usage is what a child cost, read from its rusage.
type usage struct {
	rss  float64 // peak RSS, MiB
	cpu  float64 // user+system seconds
	wall time.Duration
}

func runParent(o parentOpts) error {
	fmt.Printf("activities %s-%s each; MiB/s on uncompressed bytes; RSS = getrusage maxrss of the child process; CPU s = its user+system time\n\n", o.minDur, o.maxDur)
	fmt.Printf("%-10s %7s %9s %8s %8s %8s %8s %9s %9s | %9s %9s  %s\n", "activities", "seed s", "data MiB", "zip MiB", "export s", "MiB/s", "CPU s", "CPU s/GiB", "peak RSS", "ceil MiB/s", "ceil RSS", "load")
	if o.profDir != "" {
		if err := os.MkdirAll(o.profDir, 0o755); err != nil {
			return err
		}
	}
	for _, s := range strings.Split(o.sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		var dir string
		if o.data != "" {
			dir = filepath.Join(o.data, strconv.Itoa(n))
			err = os.MkdirAll(dir, 0o755)
		} else {
			dir, err = os.MkdirTemp("", "trailpass-bench-")
		}
		if err != nil {
			return err
		}
		var sd result
		if _, err := os.Stat(filepath.Join(dir, "seeded")); o.data == "" || err != nil {
			os.RemoveAll(filepath.Join(dir, "trailpass.db"))
			os.RemoveAll(filepath.Join(dir, "files"))
			if sd, _, err = spawn("seed", dir, n, o, ""); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, "seeded"), nil, 0o644); err != nil {
				return err
			}
		}
		var ce result
		var ceU usage
		for run := 1; run <= o.runs; run++ {
			prof := ""
			if o.profDir != "" {
				prof, _ = filepath.Abs(filepath.Join(o.profDir, fmt.Sprintf("export-%d-%d.pprof", n, run)))
			}
			before := loadAvg()
			ex, exU, err := spawn("export", dir, n, o, prof)
			if err != nil {
				return err
			}
			if run == 1 {
				os.RemoveAll(filepath.Join(dir, "extracted"))
				if err := extract(filepath.Join(dir, "export.zip"), filepath.Join(dir, "extracted")); err != nil {
					return err
				}
				if ce, ceU, err = spawn("ceiling", dir, n, o, ""); err != nil {
					return err
				}
			}
			db, _ := os.Stat(filepath.Join(dir, "trailpass.db"))
			mib := float64(ex.Bytes) / (1 << 20)
			fmt.Printf("%-10d %7.1f %9.1f %8.1f %8.2f %8.1f %8.2f %9.2f %7.1f M | %9.1f %7.1f M  %s→%s (db %.0f MiB, %d entries)\n",
				n, sd.Seconds, mib, float64(ex.Out)/(1<<20), ex.Seconds, mib/ex.Seconds, exU.cpu, exU.cpu/(mib/1024), exU.rss,
				float64(ce.Bytes)/(1<<20)/ce.Seconds, ceU.rss, before, loadAvg(), float64(db.Size())/(1<<20), ex.Entries)
		}
		if !o.keep && o.data == "" {
			os.RemoveAll(dir)
		}
	}
	return nil
}

// loadAvg is the 1-minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// spawn runs this program as a child and returns its result and what it cost.
func spawn(mode, dir string, n int, o parentOpts, prof string) (result, usage, error) {
	exe, err := os.Executable()
	if err != nil {
		return result{}, usage{}, err
	}
	args := []string{"-child", mode, "-dir", dir, "-n", strconv.Itoa(n),
		"-min-duration", o.minDur.String(), "-max-duration", o.maxDur.String()}
	if prof != "" {
		args = append(args, "-cpuprofile", prof)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	began := time.Now()
	out, err := cmd.Output()
	if err != nil {
		return result{}, usage{}, fmt.Errorf("%s child: %w", mode, err)
	}
	var r result
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return r, usage{}, fmt.Errorf("%s child output %q: %w", mode, out, err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return r, usage{rss: float64(ru.Maxrss) / 1024, cpu: cpu.Seconds(), wall: time.Since(began)}, nil
}

func runChild(mode, dir string, n int, minDur, maxDur time.Duration, prof string) error {
	ctx := context.Background()
	var r result
	if prof != "" {
		f, err := os.Create(prof)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
			if a, err := os.Create(strings.TrimSuffix(prof, ".pprof") + ".allocs.pprof"); err == nil {
				pprof.Lookup("allocs").WriteTo(a, 0)
				a.Close()
			}
		}()
	}
	began := time.Now()
	switch mode {
	case "seed", "export":
		st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "trailpass.db"), dir)
		if err != nil {
			return err
		}
		defer st.Close()
		if _, err := st.Migrate(ctx); err != nil {
			return err
		}
		files, err := blob.OpenDir(filepath.Join(dir, "files"))
		if err != nil {
			return err
		}
		if mode == "seed" {
			u := &account.User{Name: "Bench", Username: "bench", Email: "bench@example.com", PreferredLanguage: "us",
				Gender: 1, Units: 1, AccessType: 1, Active: true, FirstDayOfWeek: 1, Currency: 1,
				CreatedAt: time.Now(), UpdatedAt: time.Now()}
			if err := st.CreateUser(ctx, u); err != nil {
				return err
			}
			if _, err := seed.Run(ctx, st, files, u.ID, seed.Config{Activities: n, Seed: 42,
				MinDuration: minDur, MaxDuration: maxDur}); err != nil {
				return err
			}
			break
		}
		u, err := st.FindUserByUsername(ctx, "bench")
		if err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(dir, "export.zip"))
		if err != nil {
			return err
		}
		// The exporter as app.New configures it, without the rest of the app:
		// building that hashes a dummy password (argon2id, 19 MiB), which is
		// no part of an export but was 6 % of this child's CPU at 1,000.
		x := &portability.Exporter{Store: st, Blobs: files, Now: time.Now, Version: "bench", Passkeys: st}
		stats, err := x.Export(ctx, u.ID, f)
		if err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fi, _ := os.Stat(f.Name())
		r = result{Bytes: stats.Bytes, Out: fi.Size(), Entries: stats.Entries}
	case "ceiling":
		var err error
		r, err = ceiling(filepath.Join(dir, "extracted"), filepath.Join(dir, "ceiling.zip"))
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown child mode %q", mode)
	}
	r.Seconds = time.Since(began).Seconds()
	return json.NewEncoder(os.Stdout).Encode(r)
}

// extract writes the archive's entries as files, with an index of their order.
func extract(zipPath, dst string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return err
	}
	defer zr.Close()
	var index []string
	for _, f := range zr.File {
		p := filepath.Join(dst, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		out, err := os.Create(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, rc)
		rc.Close()
		out.Close()
		if err != nil {
			return err
		}
		index = append(index, f.Name)
	}
	return os.WriteFile(filepath.Join(dst, ".index"), []byte(strings.Join(index, "\n")), 0o644)
}

// ceiling writes the extracted entries with std archive/zip, the same methods
// and klauspost level 5, from files on disk: the cost without database and JSON.
func ceiling(src, out string) (result, error) {
	idx, err := os.ReadFile(filepath.Join(src, ".index"))
	if err != nil {
		return result{}, err
	}
	f, err := os.Create(out)
	if err != nil {
		return result{}, err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return kflate.NewWriter(w, 5) })
	var r result
	for _, name := range strings.Split(string(idx), "\n") {
		method := zip.Deflate
		switch strings.ToLower(path.Ext(name)) {
		case ".fit", ".jpg", ".jpeg", ".png", ".gz", ".zip", ".webp", ".gif":
			method = zip.Store
		}
		in, err := os.Open(filepath.Join(src, filepath.FromSlash(name)))
		if err != nil {
			return r, err
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: time.Now()})
		if err != nil {
			in.Close()
			return r, err
		}
		n, err := io.Copy(w, in)
		in.Close()
		if err != nil {
			return r, err
		}
		r.Bytes += n
		r.Entries++
	}
	if err := zw.Close(); err != nil {
		return r, err
	}
	fi, err := f.Stat()
	if err == nil {
		r.Out = fi.Size()
	}
	return r, err
}
