package portability

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/fitness"
)

// Existing is what the account already holds, for idempotent imports: per
// table with a duplicate key (fitness.Desc.Key), fitness.KeyString of each
// row's key and the row's id.
type Existing struct {
	Keys map[fitness.Table]map[string]int64
}

// ImportTx writes one import in one database transaction. Every method is
// scoped to the transaction's user; nothing is visible before Commit. Rows
// hold a value for each of the table's fitness.Desc.Stored columns, in order;
// the store fills in user_id.
type ImportTx interface {
	// Existing reads the user's current keys.
	Existing(ctx context.Context) (*Existing, error)
	// ReserveIDs returns n ids of t (activities, gear) for InsertReserved,
	// which no other writer takes before the transaction ends. Insert them
	// before reserving again: on SQLite an id left unused may be handed out
	// again later.
	ReserveIDs(ctx context.Context, t fitness.Table, n int) ([]int64, error)
	// InsertReserved inserts rows of t (activities, gear) in bulk, each row
	// its reserved id, its Stored values, and for activities the file's key
	// (nil for none).
	InsertReserved(ctx context.Context, t fitness.Table, rows [][]any) error
	// InsertRows inserts rows of t in bulk.
	InsertRows(ctx context.Context, t fitness.Table, rows [][]any) error
	// Upsert replaces the user's one row of a OnePerUser table.
	Upsert(ctx context.Context, t fitness.Table, row []any) error
	// SetProfile writes u's editable columns (as profile.Store.UpdateProfile does),
	// recomputing BMIs when recomputeBMI is set.
	SetProfile(ctx context.Context, u *account.User, recomputeBMI bool) error
	// SetPhotoPath sets users.photo_path.
	SetPhotoPath(ctx context.Context, path *string) error
	// MarkJobCommitted records in this transaction that job committed, with the
	// file moves still to do, so a crash after commit can finish them.
	MarkJobCommitted(ctx context.Context, jobID string, moves json.RawMessage, now time.Time) error
	Commit() error
	Rollback() error
	// Close releases the transaction's connection after Commit or Rollback,
	// outside the write lock (SQLite checkpoints what the import wrote). A
	// second call does nothing.
	Close() error
}

// Job is an import job row.
type Job struct {
	ID        string          `json:"job_id"`
	UserID    int64           `json:"-"`
	Status    string          `json:"status"`
	Stage     string          `json:"stage"`
	Progress  json.RawMessage `json:"progress"`
	Result    json.RawMessage `json:"result"`
	Error     string          `json:"error,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	ExpiresAt time.Time       `json:"-"`
}

// Job statuses.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobCommitted = "committed" // rows committed, staged files still moving
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
)

// ImportStore is what the import needs from storage.
type ImportStore interface {
	// BeginImport starts userID's import transaction.
	BeginImport(ctx context.Context, userID int64) (ImportTx, error)
	// CreateImportJob inserts j.
	CreateImportJob(ctx context.Context, j *Job) error
	// UpdateImportJob sets a job's status, stage and progress.
	UpdateImportJob(ctx context.Context, id, status, stage string, progress json.RawMessage, now time.Time) error
	// FinishImportJob sets a job's final status, result and error text.
	FinishImportJob(ctx context.Context, id, status string, result json.RawMessage, errText string, now time.Time) error
	// ImportJob returns the user's job; ENOTFOUND if the user has no such job.
	ImportJob(ctx context.Context, userID int64, id string) (*Job, error)
	// ImportJobsByStatus lists jobs in a status whose heartbeat is not later
	// than before.
	ImportJobsByStatus(ctx context.Context, status string, before time.Time) ([]*Job, error)
	// HeartbeatImportJob records that the job's process is alive.
	HeartbeatImportJob(ctx context.Context, id string, now time.Time) error
	// ClaimStaleImportJob takes over a job in status whose heartbeat is not
	// later than before (a queued or running one is marked failed with
	// errText), reporting false when it changed or beat meanwhile.
	ClaimStaleImportJob(ctx context.Context, id, status string, before, now time.Time, errText string) (bool, error)
	// ActiveImportJob reports whether the job is queued, running or committed.
	ActiveImportJob(ctx context.Context, id string) (bool, error)
	// DeleteExpiredImportJobs deletes finished jobs whose expiry has passed.
	DeleteExpiredImportJobs(ctx context.Context, now time.Time) (int64, error)
}

// Blobs is the blob store with the staging operations the import needs.
type Blobs interface {
	blob.Store
	// Stage writes a file of a staging folder ("staging/<job>/<name>"),
	// durable only after SyncStaging of its folder.
	Stage(ctx context.Context, key string, r io.Reader) (int64, error)
	// SyncStaging makes a staging folder's files durable.
	SyncStaging(ctx context.Context, prefix string) error
	// Move renames a blob; blob.ErrNotFound when from is gone.
	Move(ctx context.Context, from, to string) error
	RemoveAll(ctx context.Context, prefix string) error
}

// stagingLister is a Blobs that can list its staging folders (job ids), so
// recovery can remove folders no live job owns.
type stagingLister interface {
	StagingFolders(ctx context.Context) ([]string, error)
}

// bulkPacker is an ImportStore that keeps Bulk JSON values (stream samples)
// in a form of its own (the store compresses them). The import packs them in
// its first pass, on its workers, so the write transaction only copies them.
type bulkPacker interface {
	PackJSON(raw []byte) fitness.Packed
}

// freeSpacer is a Blobs that knows how much room its file system has left.
type freeSpacer interface {
	FreeSpace() (int64, error)
}
