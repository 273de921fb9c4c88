package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/testkit"
)

func TestSeedAndExportCommands(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		env := map[string]string{"TRAILPASS_DATABASE_URL": b.URL, "TRAILPASS_DATA_DIR": b.DataDir}
		getenv := func(k string) string { return env[k] }
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"seed", "--username", "demo", "--activities", "6", "--seed", "9",
			"--min-duration", "30s", "--max-duration", "60s"}, getenv, strings.NewReader(""), &out, &errOut)
		if code != 0 || !strings.Contains(out.String(), "created user demo") || !strings.Contains(out.String(), "6 activities") {
			t.Fatalf("seed: code %d\n%s\n%s", code, out.String(), errOut.String())
		}
		zipPath := filepath.Join(t.TempDir(), "demo.zip")
		out.Reset()
		code = run(context.Background(), []string{"export", "--username", "demo", "-o", zipPath}, getenv, strings.NewReader(""), &out, &errOut)
		if code != 0 || !strings.Contains(out.String(), "verified") {
			t.Fatalf("export: code %d\n%s\n%s", code, out.String(), errOut.String())
		}
		f, err := os.Open(zipPath)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, _ := f.Stat()
		m, err := portability.Verify(f, st.Size())
		if err != nil || m.Records["activities"] != 6 {
			t.Fatalf("verify: %v, records %v", err, m)
		}
		if _, err := exec.LookPath("unzip"); err == nil {
			if o, err := exec.Command("unzip", "-tq", zipPath).CombinedOutput(); err != nil {
				t.Fatalf("unzip -t: %v\n%s", err, o)
			}
		}
		code = run(context.Background(), []string{"export", "--username", "nobody", "-o", zipPath + "2"}, getenv, strings.NewReader(""), &out, &errOut)
		if code != 1 {
			t.Fatalf("export of a missing user: code %d", code)
		}
		if _, err := os.Stat(zipPath + "2"); !os.IsNotExist(err) {
			t.Errorf("missing user left a file: %v", err)
		}
	})
}
