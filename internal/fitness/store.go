package fitness

import (
	"context"
	"time"
)

// Table names one exported table by its Endurain export file's base name.
type Table string

// The exported tables, in Endurain's archive order.
const (
	Activities             Table = "activities"
	ActivityLaps           Table = "activity_laps"
	ActivitySets           Table = "activity_sets"
	ActivityStreams        Table = "activity_streams"
	ActivityWorkoutSteps   Table = "activity_workout_steps"
	ActivityMedia          Table = "activity_media"
	ActivityExerciseTitles Table = "activity_exercise_titles"
	Gears                  Table = "gears"
	GearComponents         Table = "gear_components"
	HealthWeights          Table = "health_weight"
	HealthTargetsTable     Table = "health_targets"
	Notifications          Table = "notifications"
	UserDefaultGear        Table = "user_default_gear"
	UserGoals              Table = "user_goals"
	UserIdentityProviders  Table = "user_identity_providers"
	UserIntegrations       Table = "user_integrations"
	UserPrivacySettings    Table = "user_privacy_settings"
	Users                  Table = "user"
)

// Kind is how a column's value is represented, which decides its export format.
type Kind uint8

// Column kinds. Values in a Row are nil or: int64 (Int), string (Decimal,
// String, Date as "YYYY-MM-DD"), bool (Bool), time.Time in UTC (Time),
// json.RawMessage (JSON).
const (
	Int Kind = iota
	Decimal
	String
	Bool
	Time
	Date
	JSON
)

// Cursor is a keyset position: (StartTime, ID) for activities, ID for the rest.
type Cursor struct {
	StartTime time.Time
	ID        int64
}

// Row is one exported row: values in column order, and the row's cursor.
// Values are read-only: a json.RawMessage may share its bytes with a string.
type Row struct {
	Values []any
	Cursor Cursor
	// Timezone is the owning activity's IANA zone, for laps and sets whose
	// start times Endurain writes in local time; empty otherwise.
	Timezone string
}

// PageQuery selects the next page of a user's rows in a table.
type PageQuery struct {
	UserID int64
	// After is exclusive; the zero Cursor starts at the beginning.
	After Cursor
	// Until, when non-zero, bounds the page to ids <= Until (id-ordered tables).
	Until int64
	Limit int
}

// FileRef is a stored file that belongs in the archive.
type FileRef struct {
	Key string
	// Name is the file's name in the archive when it differs from Key (media
	// whose uploader's name is not a plain blob key).
	Name   string
	Cursor Cursor
}

// Store creates a user's fitness data and reads it for export. Reads are short
// keyset-paginated queries, so no call loads a user's whole data set.
type Store interface {
	// CreateActivities inserts activities with all their parts in one
	// transaction, setting every ID (and FileKey, MediaPath).
	CreateActivities(ctx context.Context, userID int64, bundles []*ActivityBundle) error
	// CreateExerciseTitles inserts the user's exercise titles; ECONFLICT on a
	// duplicate (category, name).
	CreateExerciseTitles(ctx context.Context, userID int64, titles []*ExerciseTitle) error
	// CreateGear inserts gear with its components; ECONFLICT on a duplicate nickname.
	CreateGear(ctx context.Context, userID int64, g *Gear, components []*GearComponent) error
	// CreateHealthWeights inserts weighings in one transaction.
	CreateHealthWeights(ctx context.Context, userID int64, ws []*HealthWeight) error
	// SetHealthTargets replaces the user's targets.
	SetHealthTargets(ctx context.Context, userID int64, t HealthTargets) error
	// CreateGoals inserts goals; ECONFLICT on a duplicate (interval, type, goal type).
	CreateGoals(ctx context.Context, userID int64, goals []*Goal) error
	// SetDefaultGear replaces the user's default gear; unknown types are ignored.
	SetDefaultGear(ctx context.Context, userID int64, dg DefaultGear) error
	// CreateNotifications inserts notifications.
	CreateNotifications(ctx context.Context, userID int64, ns []*Notification) error

	// ExportColumns lists the exported columns of t in Endurain's key order.
	ExportColumns(t Table) []Column
	// ExportPage returns the next page of the user's rows in t: activities ordered
	// by (start_time, id), every other table by id.
	ExportPage(ctx context.Context, t Table, q PageQuery) ([]Row, error)
	// ExportIDs returns up to limit ids of the user's rows in t after afterID, in
	// id order: whether a chunked table fills its first chunk file names it.
	ExportIDs(ctx context.Context, t Table, userID, afterID int64, limit int) ([]int64, error)
	// ActivityFiles pages through the user's activity files by (start_time, id).
	ActivityFiles(ctx context.Context, userID int64, after Cursor, limit int) ([]FileRef, error)
	// MediaFiles pages through the user's activity media files by id.
	MediaFiles(ctx context.Context, userID int64, after Cursor, limit int) ([]FileRef, error)
}

// NotificationStore reads and marks a user's notifications (the web app's bell).
type NotificationStore interface {
	// CountNotifications counts a user's notifications.
	CountNotifications(ctx context.Context, userID int64) (int, error)
	// ListNotifications returns a page of a user's notifications, newest first.
	ListNotifications(ctx context.Context, userID int64, offset, limit int) ([]*Notification, error)
	// MarkNotificationRead marks one of the user's notifications read; ENOTFOUND
	// if the user has no such notification.
	MarkNotificationRead(ctx context.Context, userID, id int64) error
}
