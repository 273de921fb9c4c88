// Command export benchmarks the streaming export: for each size it seeds a user
// with that many activities into a temporary SQLite database, exports the
// archive to a file in a child process and prints throughput and the child's
// peak RSS, then prints the ceiling: std archive/zip writing the same entries
// from files already on disk (same compression choices), also in a child.
//
//	go run ./bench/export [-sizes 1000,10000] [-min-duration 2m] [-max-duration 6m]
package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	kflate "github.com/klauspost/compress/flate"

	"github.com/trailpass/trailpass/bench/internal/benchkit"
	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/blob"
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
	flag.Parse()
	var err error
	if *child != "" {
		err = runChild(*child, *dir, *n, *minDur, *maxDur)
	} else {
		err = runParent(*sizes, *minDur, *maxDur, *keep)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func runParent(sizes string, minDur, maxDur time.Duration, keep bool) error {
	fmt.Printf("activities %s-%s each; MiB/s on uncompressed bytes; RSS = getrusage maxrss of the child process\n\n", minDur, maxDur)
	fmt.Printf("%-10s %9s %9s %9s %8s %9s %9s | %9s %9s\n", "activities", "seed s", "data MiB", "zip MiB", "export s", "MiB/s", "peak RSS", "ceil MiB/s", "ceil RSS")
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		dir, err := os.MkdirTemp("", "trailpass-bench-")
		if err != nil {
			return err
		}
		sd, _, _, err := spawn("seed", dir, n, minDur, maxDur)
		if err != nil {
			return err
		}
		ex, exRSS, _, err := spawn("export", dir, n, minDur, maxDur)
		if err != nil {
			return err
		}
		if err := extract(filepath.Join(dir, "export.zip"), filepath.Join(dir, "extracted")); err != nil {
			return err
		}
		ce, ceRSS, _, err := spawn("ceiling", dir, n, minDur, maxDur)
		if err != nil {
			return err
		}
		db, _ := os.Stat(filepath.Join(dir, "trailpass.db"))
		mib := float64(ex.Bytes) / (1 << 20)
		fmt.Printf("%-10d %9.1f %9.1f %9.1f %8.2f %9.1f %7.1f M | %9.1f %7.1f M   (db %.0f MiB, %d entries)\n",
			n, sd.Seconds, mib, float64(ex.Out)/(1<<20), ex.Seconds, mib/ex.Seconds, exRSS,
			float64(ce.Bytes)/(1<<20)/ce.Seconds, ceRSS, float64(db.Size())/(1<<20), ex.Entries)
		if !keep {
			os.RemoveAll(dir)
		}
	}
	return nil
}

// spawn runs this program as a child and returns its result and peak RSS in MiB.
func spawn(mode, dir string, n int, minDur, maxDur time.Duration) (result, float64, time.Duration, error) {
	exe, err := os.Executable()
	if err != nil {
		return result{}, 0, 0, err
	}
	cmd := exec.Command(exe, "-child", mode, "-dir", dir, "-n", strconv.Itoa(n),
		"-min-duration", minDur.String(), "-max-duration", maxDur.String())
	cmd.Stderr = os.Stderr
	began := time.Now()
	out, err := cmd.Output()
	if err != nil {
		return result{}, 0, 0, fmt.Errorf("%s child: %w", mode, err)
	}
	var r result
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return r, 0, 0, fmt.Errorf("%s child output %q: %w", mode, out, err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return r, float64(ru.Maxrss) / 1024, time.Since(began), nil
}

func runChild(mode, dir string, n int, minDur, maxDur time.Duration) error {
	ctx := context.Background()
	var r result
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
		x := benchkit.AppOver(st, files, &url.URL{Scheme: "http", Host: "127.0.0.1"}).Exporter
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
