package profile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/blob"
)

// AccountCounts is how many rows of each kind a user's account holds.
type AccountCounts struct {
	Activities int64 `json:"activities"`
	Laps       int64 `json:"laps"`
	Streams    int64 `json:"streams"`
	Gear       int64 `json:"gear"`
	Weights    int64 `json:"weights"`
	Goals      int64 `json:"goals"`
	// Photos are the activities' photos (activity_media).
	Photos int64 `json:"photos"`
	// Files are the activities' original files (FIT, GPX, TCX).
	Files int64 `json:"files"`
}

// MonthCount is the number of activities started in one month (UTC).
type MonthCount struct {
	Month      string `json:"month"` // YYYY-MM
	Activities int64  `json:"activities"`
}

// AccountStats is what storage tells about an account, for the summary.
type AccountStats struct {
	Counts AccountCounts
	// FirstActivity and LastActivity are the start times of the oldest and
	// newest activity; nil without activities.
	FirstActivity, LastActivity *time.Time
	// PerMonth counts activities per month, oldest first, months without
	// activities left out.
	PerMonth []MonthCount
	// FileKeys are the blob keys of every file the account holds: activity
	// files, activity photos and the profile photo.
	FileKeys []string
}

// SummaryStore reads the totals of an account.
type SummaryStore interface {
	// AccountStats counts what the user's account holds.
	AccountStats(ctx context.Context, userID int64) (*AccountStats, error)
}

// AccountSummary is what an account holds: GET /api/v1/profile/summary.
type AccountSummary struct {
	Counts AccountCounts `json:"counts"`
	// FileBytes is the total size of every stored file: activity files,
	// photos and the profile photo.
	FileBytes     int64      `json:"file_bytes"`
	ProfilePhoto  bool       `json:"profile_photo"`
	FirstActivity *time.Time `json:"first_activity"`
	LastActivity  *time.Time `json:"last_activity"`
	// ActivitiesPerMonth runs from the month of the first activity to the
	// month of the last, with every month in between (zero included), at most
	// the last MaxSummaryMonths months.
	ActivitiesPerMonth []MonthCount `json:"activities_per_month"`
}

// MaxSummaryMonths bounds the per-month series the summary returns.
const MaxSummaryMonths = 120

// Summary reports what the user's account holds, before an export.
func (s *Service) Summary(ctx context.Context, userID int64) (*AccountSummary, error) {
	st, ok := s.Store.(SummaryStore)
	if !ok {
		return nil, errors.New("account summary: the store cannot count")
	}
	stats, err := st.AccountStats(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("account stats: %w", err)
	}
	out := &AccountSummary{Counts: stats.Counts, FirstActivity: stats.FirstActivity, LastActivity: stats.LastActivity,
		ActivitiesPerMonth: fillMonths(stats.PerMonth)}
	for _, key := range stats.FileKeys {
		if strings.HasPrefix(key, photoKeyDirPrefix) {
			out.ProfilePhoto = true
		}
		n, err := s.Blobs.Size(ctx, key)
		if errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrInvalidKey) {
			continue // a row without its file: nothing to download
		} else if err != nil {
			return nil, fmt.Errorf("size of a stored file: %w", err)
		}
		out.FileBytes += n
	}
	return out, nil
}

// fillMonths turns sparse month counts into a contiguous series ending at the
// last month with activities.
func fillMonths(sparse []MonthCount) []MonthCount {
	out := []MonthCount{}
	if len(sparse) == 0 {
		return out
	}
	parse := func(m string) time.Time {
		t, _ := time.Parse("2006-01", m)
		return t
	}
	first, last := parse(sparse[0].Month), parse(sparse[len(sparse)-1].Month)
	if limit := last.AddDate(0, -(MaxSummaryMonths - 1), 0); first.Before(limit) {
		first = limit
	}
	byMonth := map[string]int64{}
	for _, m := range sparse {
		byMonth[m.Month] = m.Activities
	}
	for m := first; !m.After(last); m = m.AddDate(0, 1, 0) {
		k := m.Format("2006-01")
		out = append(out, MonthCount{Month: k, Activities: byMonth[k]})
	}
	return out
}
