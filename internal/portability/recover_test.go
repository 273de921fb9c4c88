package portability_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/portability"
	"github.com/trailpass/trailpass/internal/store"
	"github.com/trailpass/trailpass/internal/testkit"
)

// A process that died after its commit but before moving the files leaves a
// committed job: recovery moves the files into place and closes the job.
func TestRecover_RollsCommittedJobsForward(t *testing.T) {
	testkit.EachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newImpEnv(t, st, portability.Limits{})
		uid := e.newUser(t, "ann")
		now := importClock.Now()
		job := &portability.Job{ID: "job-committed", UserID: uid, Status: portability.JobRunning, Stage: portability.StageWriting,
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := st.CreateImportJob(ctx, job); err != nil {
			t.Fatal(err)
		}
		if _, err := e.blobs.Put(ctx, "staging/job-committed/f1", strings.NewReader("fit")); err != nil {
			t.Fatal(err)
		}
		tx, err := st.BeginImport(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		moves, _ := json.Marshal([]map[string]string{{"from": "staging/job-committed/f1", "to": "activity_files/77.fit"}})
		if err := tx.MarkJobCommitted(ctx, job.ID, moves, now); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		// A job another process still runs is not touched while fresh.
		running := &portability.Job{ID: "job-fresh", UserID: uid, Status: portability.JobRunning, CreatedAt: now,
			UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
		st.CreateImportJob(ctx, running)
		n, err := e.im.Recover(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("recovered %d fresh jobs", n)
		}
		importClock.Advance(2 * time.Minute)
		defer importClock.Advance(-2 * time.Minute)
		if n, err = e.im.Recover(ctx, time.Minute); err != nil || n != 2 {
			t.Fatalf("recover: %d, %v", n, err)
		}
		if size, err := e.blobs.Size(ctx, "activity_files/77.fit"); err != nil || size != 3 {
			t.Fatalf("file not moved: %d %v", size, err)
		}
		j, _ := st.ImportJob(ctx, uid, job.ID)
		f, _ := st.ImportJob(ctx, uid, running.ID)
		if j.Status != portability.JobSucceeded || f.Status != portability.JobFailed {
			t.Fatalf("statuses: %s, %s", j.Status, f.Status)
		}
		// A week later both finished jobs are gone.
		importClock.Advance(8 * 24 * time.Hour)
		defer importClock.Advance(-8 * 24 * time.Hour)
		if _, err := e.im.Recover(ctx, time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ImportJob(ctx, uid, job.ID); err == nil {
			t.Fatal("an expired job is still there")
		}
		// A job marked failed cannot commit any more.
		tx, _ = st.BeginImport(ctx, uid)
		defer tx.Rollback()
		if err := tx.MarkJobCommitted(ctx, running.ID, nil, now); err == nil {
			t.Fatal("a failed job committed")
		}
	})
}
