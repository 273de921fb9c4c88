package dburl_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Only store, app (the one wiring, which takes a *store.Store) and the test
// harnesses may depend on a database driver, goose or store itself: configuration checks database URLs through this package, and
// mfa defines the storage it needs. go list -deps is the judge.
func TestArrows_NoDriversOutsideStore(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", "github.com/trailpass/trailpass/internal/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := map[string]bool{
		"github.com/trailpass/trailpass/internal/store":               true,
		"github.com/trailpass/trailpass/internal/app":                 true,
		"github.com/trailpass/trailpass/internal/testkit":             true,
		"github.com/trailpass/trailpass/internal/httpapi/httpapitest": true,
	}
	forbidden := []string{"github.com/trailpass/trailpass/internal/store", "github.com/jackc/pgx/", "modernc.org/sqlite", "github.com/pressly/goose/"}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, " ")
		if allowed[pkg] {
			continue
		}
		checked++
		for _, dep := range strings.Fields(deps) {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f) && strings.HasSuffix(f, "/") {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("checked only %d packages:\n%s", checked, out)
	}
}
