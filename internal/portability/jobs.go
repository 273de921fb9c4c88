package portability

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/trailpass/trailpass/internal/blob"
)

// jobTTL is how long a job row stays readable.
const jobTTL = 7 * 24 * time.Hour

func newJobID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (im *Importer) newJob(ctx context.Context, userID int64, status string) (*Job, error) {
	now := im.now()
	j := &Job{ID: newJobID(), UserID: userID, Status: status, Stage: StageValidating, CreatedAt: now, UpdatedAt: now,
		ExpiresAt: now.Add(jobTTL)}
	if err := im.Store.CreateImportJob(ctx, j); err != nil {
		return nil, fmt.Errorf("create import job: %w", err)
	}
	return j, nil
}

// finishMoves moves committed files from staging into place, then drops the
// staging folder and the job's move list. Moving is idempotent: a file already
// moved (by an earlier, interrupted attempt) is skipped.
func (im *Importer) finishMoves(ctx context.Context, jobID string, userID int64, moves []move, progress func(string, int, int)) error {
	ctx = context.WithoutCancel(ctx) // the rows are committed: the files must follow
	for i, m := range moves {
		// A file already moved (by an earlier attempt) is gone from staging.
		if err := im.Blobs.Move(ctx, m.From, m.To); err != nil && !errors.Is(err, blob.ErrNotFound) {
			return errStorage(err)
		}
		if progress != nil && (i+1)%250 == 0 {
			progress(StageFiles, i+1, len(moves))
		}
	}
	// A photo of another format would shadow the imported one.
	for _, ext := range []string{"png", "jpg"} {
		key := "user_images/" + fmt.Sprint(userID) + "." + ext
		keep := false
		for _, m := range moves {
			keep = keep || m.To == key
		}
		hasPhoto := false
		for _, m := range moves {
			hasPhoto = hasPhoto || len(m.To) > 12 && m.To[:12] == "user_images/"
		}
		if hasPhoto && !keep {
			im.Blobs.Delete(ctx, key)
		}
	}
	return im.Blobs.RemoveAll(ctx, "staging/"+jobID)
}

// Start runs an import in the background of this process and returns its job
// id at once. It takes ownership of file (a spooled archive) and removes it at
// the end. The job's status and progress live in the database, so any
// instance can report them.
func (im *Importer) Start(ctx context.Context, userID int64, file *os.File, size int64, opts Options) (string, error) {
	job, err := im.newJob(ctx, userID, JobQueued)
	if err != nil {
		file.Close()
		os.Remove(file.Name())
		return "", err
	}
	go func() {
		defer os.Remove(file.Name())
		defer file.Close()
		// No request's recover reaches this goroutine. A panic ends this
		// import only: its heartbeat stops, so the recovery loop fails the job
		// and removes its staged files, as after a crash.
		defer func() {
			if v := recover(); v != nil {
				slog.ErrorContext(ctx, "import panicked", "job", job.ID, "panic", v, "stack", string(debug.Stack()))
			}
		}()
		bg := context.WithoutCancel(ctx)
		im.RunJob(bg, job, userID, file, size, opts)
	}()
	return job.ID, nil
}

// RunJob runs the import of an existing job row, recording progress in it
// (at most twice a second, and not while the write transaction is open, which
// on SQLite holds the only write lock).
func (im *Importer) RunJob(ctx context.Context, job *Job, userID int64, r io.ReaderAt, size int64, opts Options) (*Result, error) {
	var last time.Time
	stage := ""
	user := opts.Progress
	opts.Progress = func(p Progress) {
		if user != nil {
			user(p)
		}
		if p.Stage == stage && time.Since(last) < 500*time.Millisecond {
			return
		}
		if p.Stage == stage && p.Stage == StageWriting {
			return
		}
		stage, last = p.Stage, time.Now()
		body, _ := json.Marshal(p)
		im.Store.UpdateImportJob(ctx, job.ID, JobRunning, p.Stage, body, im.now())
	}
	stop := make(chan struct{})
	defer close(stop)
	go im.heartbeat(ctx, job.ID, stop)
	return im.runJob(ctx, job, userID, r, size, opts)
}

// Job returns the user's import job; ENOTFOUND if the user has no such job.
func (im *Importer) Job(ctx context.Context, userID int64, id string) (*Job, error) {
	return im.Store.ImportJob(ctx, userID, id)
}

// Heartbeats: a running job's process writes the job's heartbeat every
// HeartbeatEvery; a job whose heartbeat is older than StaleAfter is dead, and
// any instance's Recover may clean up after it.
const (
	HeartbeatEvery = 10 * time.Second
	StaleAfter     = time.Minute
)

// heartbeat writes the job's heartbeat every HeartbeatEvery (wall time) until
// stop is closed.
func (im *Importer) heartbeat(ctx context.Context, jobID string, stop <-chan struct{}) {
	every := im.HeartbeatEvery
	if every <= 0 {
		every = HeartbeatEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			// A failed beat is retried at the next tick; StaleAfter allows several.
			im.Store.HeartbeatImportJob(ctx, jobID, im.now())
		}
	}
}

// interrupted is the error text of a job recovery failed.
const interrupted = "The import was interrupted; nothing was imported."

// Recover cleans up after imports whose process died (no heartbeat for
// staleAfter): a job that committed gets its staged files moved into place; a
// job still queued or running is marked failed and its staging folder
// removed, so the account is exactly as before it. Staging folders of no live
// job are removed, and finished jobs past their expiry deleted. It returns how
// many jobs it finished or failed. trailpass serve calls it at start-up and
// then every RecoverEvery, on every instance; each job is claimed in the
// database first, so two instances never recover the same one.
func (im *Importer) Recover(ctx context.Context, staleAfter time.Duration) (int, error) {
	before := im.now().Add(-staleAfter)
	n := 0
	committed, err := im.Store.ImportJobsByStatus(ctx, JobCommitted, before)
	if err != nil {
		return n, err
	}
	for _, j := range committed {
		if ok, err := im.Store.ClaimStaleImportJob(ctx, j.ID, JobCommitted, before, im.now(), ""); err != nil {
			return n, err
		} else if !ok {
			continue
		}
		var moves []move
		json.Unmarshal(j.Result, &moves)
		if err := im.finishMoves(ctx, j.ID, j.UserID, moves, nil); err != nil {
			return n, err
		}
		res, _ := json.Marshal(map[string]any{"detail": "Import completed", "recovered": true})
		if err := im.Store.FinishImportJob(ctx, j.ID, JobSucceeded, res, "", im.now()); err != nil {
			return n, err
		}
		n++
	}
	for _, status := range []string{JobQueued, JobRunning} {
		jobs, err := im.Store.ImportJobsByStatus(ctx, status, before)
		if err != nil {
			return n, err
		}
		for _, j := range jobs {
			// Failed first: a process that was only slow can no longer commit.
			if ok, err := im.Store.ClaimStaleImportJob(ctx, j.ID, status, before, im.now(), interrupted); err != nil {
				return n, err
			} else if !ok {
				continue
			}
			if err := im.Blobs.RemoveAll(ctx, "staging/"+j.ID); err != nil {
				return n, err
			}
			n++
		}
	}
	if err := im.sweepStaging(ctx); err != nil {
		return n, err
	}
	// Finished jobs are kept for a week (jobTTL), then dropped here.
	if _, err := im.Store.DeleteExpiredImportJobs(ctx, im.now()); err != nil {
		return n, err
	}
	return n, nil
}

// sweepStaging removes staging folders whose job is finished or gone (a
// removal that failed, a job failed by an older version). A job's row exists
// before its folder, so a folder being filled is never swept.
func (im *Importer) sweepStaging(ctx context.Context) error {
	l, ok := im.Blobs.(stagingLister)
	if !ok {
		return nil
	}
	ids, err := l.StagingFolders(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		active, err := im.Store.ActiveImportJob(ctx, id)
		if err != nil {
			return err
		}
		if !active {
			if err := im.Blobs.RemoveAll(ctx, "staging/"+id); err != nil {
				return err
			}
		}
	}
	return nil
}
