package portability_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// leftovers lists the files under the staging folder and the spool directory.
func leftovers(t *testing.T, e *impEnv) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{filepath.Join(e.dir, "staging"), e.im.TempDir} {
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				out = append(out, p)
			}
			return nil
		})
	}
	return out
}

// A second import of the same user is refused while one runs, whichever
// instance runs it; once recovery has failed a dead one, imports work again.
func TestImport_OneRunningPerUser(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newImpEnv(t, st, portability.Limits{})
		clock := testkit.NewClock(importClock.Now())
		e.im.Now = clock.Now
		src := e.seeded(t, "src", 2)
		archive := e.export(t, src)
		uid := e.newUser(t, "ann")
		now := clock.Now()
		busy := &portability.Job{ID: "job-busy", UserID: uid, Status: portability.JobRunning, Stage: portability.StageValidating,
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := st.CreateImportJob(ctx, busy); err != nil {
			t.Fatal(err)
		}
		_, err := e.importBytes(uid, archive, portability.Options{})
		if account.ErrorCode(err) != account.ECONFLICT || !strings.Contains(account.ErrorMessage(err), "already running") {
			t.Fatalf("second import: %v", err)
		}
		// A dry run writes nothing and is not a job: allowed.
		if _, err := e.importBytes(uid, archive, portability.Options{DryRun: true}); err != nil {
			t.Fatalf("dry run: %v", err)
		}
		// Another user is not affected.
		if _, err := e.importBytes(e.newUser(t, "bo"), archive, portability.Options{}); err != nil {
			t.Fatalf("another user's import: %v", err)
		}
		// The busy job's process died: a minute later recovery fails it, and
		// the user may import again.
		clock.Advance(2 * time.Minute)
		if n, err := e.im.Recover(ctx, portability.StaleAfter); err != nil || n != 1 {
			t.Fatalf("recover: %d %v", n, err)
		}
		res, err := e.importBytes(uid, archive, portability.Options{})
		if err != nil || res.Imported["activities"] != 2 {
			t.Fatalf("import after recovery: %v %v", res, err)
		}
		if l := leftovers(t, e); len(l) != 0 {
			t.Fatalf("left behind: %v", l)
		}
	})
}

// A live import beats its heartbeat, so recovery leaves it alone even when
// its start looks long ago; without the heartbeat it would be failed.
func TestImport_HeartbeatKeepsLiveJob(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newImpEnv(t, st, portability.Limits{})
		clock := testkit.NewClock(importClock.Now())
		e.im.Now = clock.Now
		e.im.HeartbeatEvery = 5 * time.Millisecond
		archive := e.export(t, e.seeded(t, "src", 3))
		uid := e.newUser(t, "ann")
		recovered, checked := -1, false
		var recErr error
		opts := portability.Options{Progress: func(p portability.Progress) {
			if checked || p.Stage != portability.StageValidating || p.Done == 0 {
				return
			}
			checked = true
			clock.Advance(5 * time.Minute)
			time.Sleep(200 * time.Millisecond) // several beats at the new time
			recovered, recErr = e.im.Recover(ctx, portability.StaleAfter)
		}}
		res, err := e.importBytes(uid, archive, opts)
		if err != nil || res.Imported["activities"] != 3 {
			t.Fatalf("import: %v %v", res, err)
		}
		if !checked || recErr != nil || recovered != 0 {
			t.Fatalf("recovery during a live import: checked %v, %d jobs, %v", checked, recovered, recErr)
		}
	})
}

// Every way an import can fail after it started staging leaves no file in
// the staging folder or the spool directory, and no job blocking the next.
func TestImport_FailuresLeaveNoStagedFiles(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		e := newImpEnv(t, st, portability.Limits{})
		archive := e.export(t, e.seeded(t, "src", 6))
		uid := e.newUser(t, "ann")
		cases := []struct {
			name  string
			setup func() (context.Context, portability.Options, func())
			code  string
			text  string
		}{
			{"disk full", func() (context.Context, portability.Options, func()) {
				e.im.FreeSpace = func() (int64, error) { return 10 << 20, nil }
				return context.Background(), portability.Options{}, func() { e.im.FreeSpace = nil }
			}, account.EINSUFFICIENT, "Insufficient disk space during profile data import. Please free up space and try again."},
			{"free space unknown", func() (context.Context, portability.Options, func()) {
				e.im.FreeSpace = func() (int64, error) { return 0, errors.New("statfs: input/output error") }
				return context.Background(), portability.Options{}, func() { e.im.FreeSpace = nil }
			}, account.EINSUFFICIENT, "File system error"},
			{"write error while staging", func() (context.Context, portability.Options, func()) {
				e.im.Blobs = &failingStaging{Dir: e.blobs, after: 2}
				return context.Background(), portability.Options{}, func() { e.im.Blobs = e.blobs }
			}, account.EINSUFFICIENT, "File system error"},
			{"sync error after staging", func() (context.Context, portability.Options, func()) {
				e.im.Blobs = &failingStaging{Dir: e.blobs, failSync: true}
				return context.Background(), portability.Options{}, func() { e.im.Blobs = e.blobs }
			}, account.EINSUFFICIENT, "File system error"},
			{"cancelled while writing", func() (context.Context, portability.Options, func()) {
				ctx, cancel := context.WithCancel(context.Background())
				return ctx, portability.Options{Progress: func(p portability.Progress) {
					if p.Stage == portability.StageWriting {
						cancel()
					}
				}}, cancel
			}, "", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ctx, opts, undo := c.setup()
				defer undo()
				staged := 0
				progress := opts.Progress
				opts.Progress = func(p portability.Progress) {
					staged = max(staged, len(leftovers(t, e)))
					if progress != nil {
						progress(p)
					}
				}
				_, err := e.im.Import(ctx, uid, bytes.NewReader(archive), int64(len(archive)), opts)
				if err == nil {
					t.Fatal("the import succeeded")
				}
				if c.code != "" && (account.ErrorCode(err) != c.code || !strings.Contains(account.ErrorMessage(err), c.text)) {
					t.Fatalf("error: %s %q", account.ErrorCode(err), account.ErrorMessage(err))
				}
				if !strings.Contains(c.name, "space") && !strings.Contains(c.name, "disk") && staged == 0 {
					t.Fatal("nothing was staged before the failure")
				}
				if l := leftovers(t, e); len(l) != 0 {
					t.Fatalf("left behind (%d staged at most): %v", staged, l)
				}
			})
		}
		// None of the failed jobs blocks the user.
		if _, err := e.importBytes(uid, archive, portability.Options{}); err != nil {
			t.Fatalf("import after the failures: %v", err)
		}
	})
}

// Recovery removes a staging folder no live job owns (a job failed by an
// older version, a removal that failed).
func TestRecover_SweepsOrphanStaging(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newImpEnv(t, st, portability.Limits{})
		uid := e.newUser(t, "ann")
		now := importClock.Now()
		live := &portability.Job{ID: "job-live", UserID: uid, Status: portability.JobRunning, CreatedAt: now,
			UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := st.CreateImportJob(ctx, live); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"staging/orphan-1/f1", "staging/job-live/f1"} {
			if _, err := e.blobs.Put(ctx, k, strings.NewReader("x")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.im.Recover(ctx, portability.StaleAfter); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(e.dir, "staging", "orphan-1")); !os.IsNotExist(err) {
			t.Fatalf("orphan folder: %v", err)
		}
		if _, err := e.blobs.Size(ctx, "staging/job-live/f1"); err != nil {
			t.Fatalf("a live job's staged file is gone: %v", err)
		}
	})
}

// failingStaging fails every staged file after the first after ones of the
// archive's order (staging keys end in f1, f2, …), whichever order the
// import's workers stage them in (none with after 0), or the sync.
type failingStaging struct {
	*blob.Dir
	after    int
	failSync bool
}

func (f *failingStaging) Stage(ctx context.Context, key string, r io.Reader) (int64, error) {
	n, err := strconv.Atoi(key[strings.LastIndexByte(key, 'f')+1:])
	if err != nil || f.after > 0 && n > f.after {
		return 0, errors.New("write: no space left on device")
	}
	return f.Dir.Stage(ctx, key, r)
}

func (f *failingStaging) SyncStaging(ctx context.Context, prefix string) error {
	if f.failSync {
		return errors.New("syncfs: input/output error")
	}
	return f.Dir.SyncStaging(ctx, prefix)
}
