package fitness

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Activity is one recorded activity. Decimal columns are exact decimal text
// ("12.3400000000"), as Endurain's NUMERIC(20,10) columns.
type Activity struct {
	ID                      int64
	UserID                  int64
	Name                    *string
	Description             *string
	PrivateNotes            *string
	Distance                int
	ActivityType            int
	StartTime               time.Time
	EndTime                 time.Time
	Timezone                *string
	TotalElapsedTime        string
	TotalTimerTime          string
	City                    *string
	Town                    *string
	Country                 *string
	CreatedAt               time.Time
	ElevationGain           *int
	ElevationLoss           *int
	Pace                    *string
	AverageSpeed            *string
	MaxSpeed                *string
	AveragePower            *int
	MaxPower                *int
	NormalizedPower         *int
	AverageHR               *int
	MaxHR                   *int
	AverageCad              *int
	MaxCad                  *int
	WorkoutFeeling          *int
	WorkoutRPE              *int
	Calories                *int
	Visibility              int
	GearID                  *int64
	StravaGearID            *string
	StravaActivityID        *int64
	GarminconnectActivityID *int64
	GarminconnectGearID     *string
	ImportInfo              json.RawMessage
	IsHidden                bool
	Hide                    Hide
	TrackerManufacturer     *string
	TrackerModel            *string
	// FileKey is the blob key of the activity file, set by the store from FileExt.
	FileKey *string
}

// Hide holds an activity's per-field privacy flags.
type Hide struct {
	StartTime, Location, Map, HR, Power, Cadence, Elevation, Speed, Pace, Laps, WorkoutSetsSteps, Gear bool
}

// Lap is one lap of an activity.
type Lap struct {
	ID                     int64
	ActivityID             int64
	StartTime              time.Time
	StartPositionLat       *string
	StartPositionLong      *string
	EndPositionLat         *string
	EndPositionLong        *string
	TotalElapsedTime       *string
	TotalTimerTime         *string
	TotalDistance          *string
	TotalCycles            *int
	TotalCalories          *int
	AvgHeartRate           *int
	MaxHeartRate           *int
	AvgCadence             *int
	MaxCadence             *int
	AvgPower               *int
	MaxPower               *int
	TotalAscent            *int
	TotalDescent           *int
	Intensity              *string
	LapTrigger             *string
	Sport                  *string
	SubSport               *string
	NormalizedPower        *int
	TotalWork              *int
	AvgVerticalOscillation *string
	AvgStanceTime          *string
	AvgFractionalCadence   *string
	MaxFractionalCadence   *string
	EnhancedAvgPace        *string
	EnhancedAvgSpeed       *string
	EnhancedMaxPace        *string
	EnhancedMaxSpeed       *string
	EnhancedMinAltitude    *string
	EnhancedMaxAltitude    *string
	AvgVerticalRatio       *string
	AvgStepLength          *string
}

// Set is one strength-training set.
type Set struct {
	ID              int64
	ActivityID      int64
	Duration        string
	Repetitions     *int
	Weight          *string
	SetType         string
	StartTime       time.Time
	Category        *int
	CategorySubtype *int
}

// Stream types, as Endurain numbers them.
const (
	StreamHR = iota + 1
	StreamPower
	StreamCadence
	StreamElevation
	StreamSpeed
	StreamPace
	StreamLatLon
)

// Stream is one sampled channel of an activity. Waypoints is Endurain's JSON
// array of {"time": …, "<value key>": …} objects, kept as raw JSON.
type Stream struct {
	ID                     int64
	ActivityID             int64
	StreamType             int
	Waypoints              json.RawMessage `col:"stream_waypoints"`
	StravaActivityStreamID *int64
}

// WorkoutStep is one step of a planned workout.
type WorkoutStep struct {
	ID                   int64
	ActivityID           int64
	MessageIndex         int
	DurationType         string
	DurationValue        *string
	TargetType           *string
	TargetValue          *int
	Intensity            *string
	Notes                *string
	ExerciseCategory     *int
	ExerciseName         *int
	ExerciseWeight       *string
	WeightDisplayUnit    *string
	SecondaryTargetValue *string
}

// Media is a photo attached to an activity. Name is the uploader's own file name;
// the store sets MediaPath to MediaPath(activity id, Name), where Endurain keeps
// the name, and the file lives under the blob key MediaKey(activity id, Name).
type Media struct {
	ID         int64
	ActivityID int64
	Name       string
	MediaPath  string
	MediaType  int
}

// ExerciseTitle names a FIT exercise (category, name) for one user.
type ExerciseTitle struct {
	ID               int64
	UserID           int64
	ExerciseCategory int
	ExerciseName     int
	WktStepName      string
}

// ActivityBundle is an activity with its parts, created together.
type ActivityBundle struct {
	Activity Activity
	// FileExt, when set, makes the store record the activity file's blob key
	// ActivityFileKey(id, FileExt); the caller writes the file there.
	FileExt string
	Laps    []Lap
	Sets    []Set
	Streams []Stream
	Steps   []WorkoutStep
	Media   []Media
}

// Gear is a bike, a pair of shoes and so on. Money and distance are decimal text.
type Gear struct {
	ID                  int64
	UserID              int64
	Brand               *string
	Model               *string
	Nickname            string
	GearType            int
	CreatedAt           time.Time
	Active              bool
	InitialKms          string
	PurchaseValue       *string
	StravaGearID        *string
	GarminconnectGearID *string
}

// GearComponent is a wearing part of a gear (a chain, insoles).
type GearComponent struct {
	ID            int64
	UserID        int64
	GearID        int64
	Type          string
	Brand         string
	Model         string
	PurchaseDate  time.Time
	RetiredDate   *time.Time
	Active        bool
	ExpectedKms   *int
	PurchaseValue *string
}

// HealthWeight is one weighing. Date is "YYYY-MM-DD"; measures are decimal text.
type HealthWeight struct {
	ID             int64
	UserID         int64
	Date           string
	Weight         string
	BMI            *string
	BodyFat        *string
	BodyWater      *string
	BoneMass       *string
	MuscleMass     *string
	PhysiqueRating *int
	VisceralFat    *string
	MetabolicAge   *int
	Source         *string
}

// HealthTargets is the user's one row of targets.
type HealthTargets struct {
	Weight *string
	Steps  *int
	Sleep  *int
}

// Goal is a training goal (users_goals).
type Goal struct {
	ID                   int64
	UserID               int64
	Interval             string
	ActivityType         int
	GoalType             int
	GoalCalories         *int
	GoalActivitiesNumber *int
	GoalDistance         *int
	GoalElevation        *int
	GoalDuration         *int
}

// DefaultGearTypes lists the users_default_gear columns' prefixes in column order.
// The store derives its users_default_gear column lists from it.
var DefaultGearTypes = []string{"run", "trail_run", "virtual_run", "ride", "gravel_ride", "mtb_ride",
	"virtual_ride", "ows", "walk", "hike", "tennis", "alpine_ski", "nordic_ski", "snowboard", "windsurf"}

// DefaultGear maps a DefaultGearTypes entry to a gear id.
type DefaultGear map[string]int64

// Notification is an in-app notification. Options is raw JSON.
type Notification struct {
	ID        int64
	UserID    int64
	Type      int
	Options   json.RawMessage
	Read      bool
	CreatedAt time.Time
}

// ActivityFileKey is the blob key of an activity's file.
func ActivityFileKey(activityID int64, ext string) string {
	return "activity_files/" + strconv.FormatInt(activityID, 10) + "." + ext
}

// MediaPath is an activity media row's media_path: Endurain's
// "<activity id>_<uploader's file name>" under activity_media/. It is also the
// file's name in an export archive, and never a path on disk.
func MediaPath(activityID int64, name string) string {
	return "activity_media/" + strconv.FormatInt(activityID, 10) + "_" + name
}

// plainMediaName is a name safe as a blob key as it is.
var plainMediaName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$`)

// MediaKey is the blob key of an activity's media file. A plain name keeps
// Endurain's form, MediaPath; any other name (spaces, accents, brackets) is
// replaced by a digest of it, so a key is always one the server chose.
func MediaKey(activityID int64, name string) string {
	if plainMediaName.MatchString(name) && !strings.Contains(name, "..") {
		return MediaPath(activityID, name)
	}
	ext := "bin"
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		if e := strings.ToLower(name[i+1:]); plainMediaName.MatchString(e) && len(e) <= 5 {
			ext = e
		}
	}
	sum := sha256.Sum256([]byte(name))
	return "activity_media/" + strconv.FormatInt(activityID, 10) + "_h" + hex.EncodeToString(sum[:16]) + "." + ext
}
