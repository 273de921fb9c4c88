package profile

import (
	"context"
	"fmt"
	"time"

	"github.com/trailpass/trailpass/internal/account"
)

// DefaultGear is a user's default gear per activity type, in Endurain's
// UsersDefaultGear shape. A nil id means no default.
type DefaultGear struct {
	ID                int64  `json:"id"`
	UserID            int64  `json:"user_id"`
	RunGearID         *int64 `json:"run_gear_id"`
	TrailRunGearID    *int64 `json:"trail_run_gear_id"`
	VirtualRunGearID  *int64 `json:"virtual_run_gear_id"`
	RideGearID        *int64 `json:"ride_gear_id"`
	GravelRideGearID  *int64 `json:"gravel_ride_gear_id"`
	MTBRideGearID     *int64 `json:"mtb_ride_gear_id"`
	VirtualRideGearID *int64 `json:"virtual_ride_gear_id"`
	OWSGearID         *int64 `json:"ows_gear_id"`
	WalkGearID        *int64 `json:"walk_gear_id"`
	HikeGearID        *int64 `json:"hike_gear_id"`
	TennisGearID      *int64 `json:"tennis_gear_id"`
	AlpineSkiGearID   *int64 `json:"alpine_ski_gear_id"`
	NordicSkiGearID   *int64 `json:"nordic_ski_gear_id"`
	SnowboardGearID   *int64 `json:"snowboard_gear_id"`
	WindsurfGearID    *int64 `json:"windsurf_gear_id"`
}

// GearFields returns the 15 gear-id fields with their JSON names, in column
// order, as pointers into d. The order is fitness.DefaultGearTypes' (this
// package cannot import fitness; a store test checks that the two agree).
func (d *DefaultGear) GearFields() []GearField {
	return []GearField{
		{"run_gear_id", &d.RunGearID}, {"trail_run_gear_id", &d.TrailRunGearID},
		{"virtual_run_gear_id", &d.VirtualRunGearID}, {"ride_gear_id", &d.RideGearID},
		{"gravel_ride_gear_id", &d.GravelRideGearID}, {"mtb_ride_gear_id", &d.MTBRideGearID},
		{"virtual_ride_gear_id", &d.VirtualRideGearID}, {"ows_gear_id", &d.OWSGearID},
		{"walk_gear_id", &d.WalkGearID}, {"hike_gear_id", &d.HikeGearID},
		{"tennis_gear_id", &d.TennisGearID}, {"alpine_ski_gear_id", &d.AlpineSkiGearID},
		{"nordic_ski_gear_id", &d.NordicSkiGearID}, {"snowboard_gear_id", &d.SnowboardGearID},
		{"windsurf_gear_id", &d.WindsurfGearID},
	}
}

// GearField is one per-activity-type default: its column (and JSON) name and
// the value.
type GearField struct {
	Name string
	ID   **int64
}

// Gear is one piece of gear in Endurain's gear JSON shape. Decimals are strings
// with two decimals.
type Gear struct {
	ID                  int64     `json:"id"`
	Brand               *string   `json:"brand"`
	Model               *string   `json:"model"`
	Nickname            string    `json:"nickname"`
	GearType            int       `json:"gear_type"`
	UserID              int64     `json:"user_id"`
	CreatedAt           time.Time `json:"created_at"`
	Active              bool      `json:"active"`
	InitialKms          string    `json:"initial_kms"`
	PurchaseValue       *string   `json:"purchase_value"`
	StravaGearID        *string   `json:"strava_gear_id"`
	GarminConnectGearID *string   `json:"garminconnect_gear_id"`
}

// DefaultGearStore reads and writes default-gear rows.
type DefaultGearStore interface {
	// GetDefaultGear returns the user's row; ENOTFOUND if it is missing.
	GetDefaultGear(ctx context.Context, userID int64) (*DefaultGear, error)
	// UpdateDefaultGear writes the 15 ids of the row of d.UserID.
	UpdateDefaultGear(ctx context.Context, d *DefaultGear) error
	// OwnedGear returns which of ids belong to the user.
	OwnedGear(ctx context.Context, userID int64, ids []int64) (map[int64]bool, error)
}

// GetDefaultGear returns the caller's default gear; ENOTFOUND if missing.
func (s *Service) GetDefaultGear(ctx context.Context, userID int64) (*DefaultGear, error) {
	return s.Store.GetDefaultGear(ctx, userID)
}

// UpdateDefaultGear replaces the caller's 15 default gear ids with those of in
// (id and user_id of in are ignored) and returns the row. A gear id that is not
// the caller's gear is EUNPROCESSABLE naming each such field.
func (s *Service) UpdateDefaultGear(ctx context.Context, userID int64, in DefaultGear) (*DefaultGear, error) {
	cur, err := s.Store.GetDefaultGear(ctx, userID)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, f := range in.GearFields() {
		if *f.ID != nil {
			ids = append(ids, **f.ID)
		}
	}
	owned, err := s.Store.OwnedGear(ctx, userID, ids)
	if err != nil {
		return nil, fmt.Errorf("check gear: %w", err)
	}
	var problems []account.FieldError
	for _, f := range in.GearFields() {
		if *f.ID != nil && !owned[**f.ID] {
			problems = append(problems, account.FieldError{Field: f.Name, Message: "Gear not found"})
		}
	}
	if len(problems) > 0 {
		return nil, account.ValidationError(problems...)
	}
	in.ID, in.UserID = cur.ID, userID
	if err := s.Store.UpdateDefaultGear(ctx, &in); err != nil {
		return nil, fmt.Errorf("update default gear: %w", err)
	}
	return &in, nil
}
