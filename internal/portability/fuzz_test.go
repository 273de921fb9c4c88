package portability_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/testkit"
)

var updateFuzz = flag.Bool("update-fuzz", false, "rewrite the committed fuzz seed corpus")

// FuzzImportArchive feeds arbitrary bytes to the whole import, as a dry run
// against a real SQLite database: it must never panic, and every rejection must
// be a client error (4xx), never an internal one.
func FuzzImportArchive(f *testing.F) {
	f.Add(endurainArchive(f))
	f.Add(buildZip(f, zent{name: "data/activities.json", data: []byte(okActivity)}))
	st := testkit.OpenStore(f, testkit.Backends(f)[0])
	e := newImpEnv(f, st, portability.Limits{MaxUploadBytes: 1 << 20, MaxEntries: 200,
		MaxJSONBytes: 1 << 20, MaxEntryBytes: 1 << 20, MaxTotalBytes: 4 << 20})
	uid := e.newUser(f, "fuzz")
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := e.im.Import(context.Background(), uid, bytes.NewReader(b), int64(len(b)), portability.Options{DryRun: true})
		if err == nil {
			return
		}
		switch account.ErrorCode(err) {
		case account.EINVALID, account.EUNPROCESSABLE, account.ETOOLARGE, account.ECONFLICT:
		default:
			t.Fatalf("not a client error: %v", err)
		}
	})
}

// TestFuzzCorpus checks that the committed seed corpus of FuzzImportArchive
// holds every small case of the hostile corpus, so plain go test replays them
// all through the fuzz target; with -update-fuzz it regenerates the seeds.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzImportArchive")
	if *updateFuzz {
		os.MkdirAll(dir, 0o755)
	}
	for name, c := range hostileCases(t) {
		b := c.zip()
		if len(b) > 64<<10 {
			continue
		}
		file := filepath.Join(dir, "seed-"+slug(name))
		if *updateFuzz {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(b)))
			if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(file)
		if err != nil || !bytes.HasPrefix(got, []byte("go test fuzz v1\n[]byte(")) {
			t.Errorf("hostile case %q has no seed in %s (run go test -run TestFuzzCorpus -update-fuzz): %v", name, dir, err)
		}
	}
}

func slug(s string) string {
	out := []byte{}
	for _, c := range []byte(strings.ToLower(s)) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			out = append(out, c)
		default:
			out = append(out, '-')
		}
	}
	return string(out)
}
