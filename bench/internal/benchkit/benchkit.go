// Package benchkit holds what the benchmark commands under bench/ share: a
// database of the run's own on either engine, percentiles and fatal checks.
// Benchmarks are commands, so failures end the process rather than return.
package benchkit

import (
	"log"
	"os"
	"slices"
	"time"

	"github.com/trailpass/trailpass/internal/testkit"
)

// Database returns a database URL and data directory of the run's own for
// kind ("sqlite" or "postgres") and a cleanup that removes both. For SQLite
// the URL is empty: trailpass's default database file in the data directory.
// For PostgreSQL it is a fresh schema, named from schemaPrefix, at
// TRAILPASS_TEST_POSTGRES_URL, so runs never see each other's rows.
func Database(kind, schemaPrefix string) (string, string, func()) {
	dir, err := os.MkdirTemp("", "trailpass-bench-")
	Check(err)
	switch kind {
	case "sqlite":
		return "", dir, func() { os.RemoveAll(dir) }
	case "postgres":
		u, drop, err := testkit.CreatePostgresSchema(os.Getenv(testkit.PostgresEnv), schemaPrefix)
		if err != nil {
			os.RemoveAll(dir)
			log.Fatal(err)
		}
		return u, dir, func() { drop(); os.RemoveAll(dir) }
	}
	os.RemoveAll(dir)
	log.Fatalf("unknown -db %q", kind)
	return "", "", nil
}

// Percentile returns the p-th percentile of d (sorting d), rounded to round
// so printed figures do not claim more precision than the run has; 0 for no
// samples.
func Percentile(d []time.Duration, p int, round time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[(len(d)-1)*p/100].Round(round)
}

// Check ends the benchmark on err.
func Check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
