package httpapi

import (
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/metrics"
)

// compatDoc is the compatibility table every route must appear in.
const compatDoc = "../../docs/COMPATIBILITY.md"

var (
	compatRoute = regexp.MustCompile("`((?:GET|POST|PUT|DELETE|PATCH) /[^`]*)`")
	pathParam   = regexp.MustCompile(`\{[^}]*\}`)
)

// normalisePattern drops parameter names, which may differ from Endurain's.
func normalisePattern(p string) string { return pathParam.ReplaceAllString(p, "{}") }

// docTrailpassPatterns returns the patterns the document says trailpass serves: the
// second column of the Endurain tables and the first column of the table of
// routes trailpass adds.
func docTrailpassPatterns(t *testing.T, doc string) []string {
	t.Helper()
	var out []string
	section := ""
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "## ") {
			section = line
			continue
		}
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(line, "|")
		col := 2 // | Endurain route | trailpass pattern | ...
		if strings.Contains(section, "trailpass adds") {
			col = 1
		}
		if len(cells) <= col {
			continue
		}
		for _, m := range compatRoute.FindAllStringSubmatch(cells[col], -1) {
			out = append(out, normalisePattern(m[1]))
		}
	}
	return out
}

// Every route trailpass registers is in the compatibility table, and every
// pattern the table names is served: a new route cannot ship without saying
// whether it is Endurain's, and how it differs.
func TestCompatibilityTable_CoversRegisteredRoutes(t *testing.T) {
	raw, err := os.ReadFile(compatDoc)
	if err != nil {
		t.Fatal(err)
	}
	documented := docTrailpassPatterns(t, string(raw))
	if len(documented) < 50 {
		t.Fatalf("found only %d trailpass patterns in %s; is the table intact?", len(documented), compatDoc)
	}
	s := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: metrics.New(), ServeMetrics: true}
	s.Handler()
	var served []string
	for _, p := range s.patterns {
		if strings.Contains(p, " ") { // method-less patterns are catch-alls
			served = append(served, normalisePattern(p))
		}
	}
	for _, p := range served {
		if !slices.Contains(documented, p) {
			t.Errorf("route %q is served but missing from %s", p, compatDoc)
		}
	}
	for _, p := range documented {
		if !slices.Contains(served, p) {
			t.Errorf("%s names %q as served, but trailpass does not register it", compatDoc, p)
		}
	}
}
