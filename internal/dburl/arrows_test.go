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

// The kernel (account: User, error codes, Caller, events) is what every
// capability builds on, so it depends on none of them: a capability that
// needs another imports it, never through the kernel.
func TestArrows_KernelImportsNoCapability(t *testing.T) {
	const mod = "github.com/trailpass/trailpass/internal/"
	capabilities := []string{"profile", "admin", "signup", "portability", "auth", "mfa", "passkey", "idp", "mail", "httpapi", "webui"}
	args := []string{"list", "-f", "{{.ImportPath}}"}
	for _, c := range capabilities {
		args = append(args, mod+c)
	}
	// Each capability must still exist, or a rename would empty the check.
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go list capabilities: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", mod+"account").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 2 || deps[len(deps)-1] != mod+"account" {
		t.Fatalf("unexpected go list -deps output:\n%s", out)
	}
	for _, dep := range deps {
		for _, c := range capabilities {
			if dep == mod+c || strings.HasPrefix(dep, mod+c+"/") {
				t.Errorf("internal/account depends on capability %s", dep)
			}
		}
	}
}
