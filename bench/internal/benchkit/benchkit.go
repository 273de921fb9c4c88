// Package benchkit holds what the benchmark commands under bench/ share: a
// database of the run's own on either engine, percentiles and fatal checks.
// Benchmarks are commands, so failures end the process rather than return.
package benchkit

import (
	"io"
	"log"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/app"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/secret"
	"github.com/trailpass/trailpass/internal/store"
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

// App builds every service through the one wiring the server uses (see
// AppOver), over st and a file store in dataDir. The file store closes with
// the process.
func App(st *store.Store, dataDir string, pub *url.URL) *app.App {
	blobs, err := blob.OpenDir(filepath.Join(dataDir, "files"))
	Check(err)
	return AppOver(st, blobs, pub)
}

// AppOver builds every service through the one wiring the server uses, over
// st, files and a fixed master key, with the production password hasher and
// the real clock, answering at pub. Loopback is a trusted proxy so each
// simulated client can have its own address (X-Forwarded-For) and the
// per-address limits do not cap a bench.
func AppOver(st *store.Store, files *blob.Dir, pub *url.URL) *app.App {
	keyring, err := secret.NewKeyring([]byte(strings.Repeat("k", secret.KeySize)))
	Check(err)
	a, err := app.New(app.Deps{Store: st, Blobs: files, Keyring: keyring, Hasher: app.NewHasher(), Now: time.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PublicURL: pub, Version: "bench",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, ResetFloor: app.DefaultResetFloor})
	Check(err)
	return a
}
