package portability

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/fitness"
)

// batchRows is how many child rows are inserted per statement batch.
const batchRows = 500

// move is a staged file and its final key, done after commit.
type move struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// writer is the second pass: every row in one transaction.
type writer struct {
	ru      *run
	tx      ImportTx
	ex      *Existing
	gearMap map[int64]int64
	moves   []move
	locs    map[string]*time.Location
}

func (ru *run) write() error {
	ru.writing = true
	ru.progress(StageWriting, 0, ru.nActs)
	lockStart := time.Now()
	tx, err := ru.im.Store.BeginImport(ru.ctx, ru.userID)
	if err != nil {
		return fmt.Errorf("begin import: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
			ru.res.LockHeld = time.Since(lockStart)
		}
	}()
	w := &writer{ru: ru, tx: tx, gearMap: map[int64]int64{}, locs: map[string]*time.Location{}}
	if w.ex, err = tx.Existing(ru.ctx); err != nil {
		return fmt.Errorf("read existing data: %w", err)
	}
	for _, e := range ru.sorted(kindData) {
		if err := w.table(e); err != nil {
			return err
		}
	}
	if ru.profile != nil && ru.profile.user != nil {
		if err := tx.SetProfile(ru.ctx, ru.profile.user, ru.profile.recompute); err != nil {
			return fmt.Errorf("import profile: %w", err)
		}
		ru.res.Imported["user"] = 1
	}
	if ru.photo != nil {
		key := account.PhotoKey(ru.userID, ru.photo.ext)
		if err := tx.SetPhotoPath(ru.ctx, &key); err != nil {
			return fmt.Errorf("import photo: %w", err)
		}
		w.moves = append(w.moves, move{ru.photo.key, key})
		ru.res.Imported["user_images"]++
	}
	if ru.opts.DryRun {
		return nil // the deferred rollback writes nothing
	}
	moves, _ := json.Marshal(w.moves)
	if err := tx.MarkJobCommitted(ru.ctx, ru.jobID, moves, ru.im.now()); err != nil {
		return fmt.Errorf("record import: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit import: %w", err)
	}
	committed = true
	ru.committed = true
	ru.res.LockHeld = time.Since(lockStart)
	return ru.im.finishMoves(ru.ctx, ru.jobID, ru.userID, w.moves, ru.progress)
}

func (w *writer) loc(activityOld int64) *time.Location {
	tz := w.ru.acts[activityOld].tz
	if l, ok := w.locs[tz]; ok {
		return l
	}
	l, err := time.LoadLocation(tz)
	if err != nil || tz == "" {
		l = time.UTC
	}
	w.locs[tz] = l
	return l
}

// newActivity returns the new id of an archive activity, and false when it was
// skipped as already present.
func (w *writer) newActivity(old int64) (int64, bool) {
	m := w.ru.acts[old]
	return m.newID, m.newID > 0
}

func (w *writer) count(table string, imported bool) {
	if imported {
		w.ru.res.Imported[table]++
	} else {
		w.ru.res.Skipped[table]++
	}
}

// flusher batches child rows.
type flusher[T any] struct {
	rows []T
	fn   func([]T) error
}

func (f *flusher[T]) add(r T) error {
	f.rows = append(f.rows, r)
	if len(f.rows) >= batchRows {
		return f.flush()
	}
	return nil
}

func (f *flusher[T]) flush() error {
	if len(f.rows) == 0 {
		return nil
	}
	err := f.fn(f.rows)
	f.rows = f.rows[:0]
	return err
}

func (w *writer) table(e entry) error {
	ru, ctx, tx := w.ru, w.ru.ctx, w.tx
	switch e.table {
	case "gears":
		return eachRow(ru, e, func(r *gearRow) error {
			if id, ok := w.ex.Gear[*r.Nickname]; ok {
				w.gearMap[*r.ID] = -id // negative: existing gear, its components are not added again
				w.count("gears", false)
				return nil
			}
			g := &fitness.Gear{Brand: r.Brand, Model: r.Model, Nickname: *r.Nickname, GearType: *r.GearType,
				CreatedAt: r.CreatedAt.T, Active: r.Active == nil || *r.Active, InitialKms: orDec(r.InitialKms, "0"),
				PurchaseValue: r.PurchaseValue.ptr(), StravaGearID: r.StravaGearID, GarminconnectGearID: r.GarminconnectGearID}
			if !r.CreatedAt.Valid {
				g.CreatedAt = ru.im.now()
			}
			if err := tx.InsertGear(ctx, g); err != nil {
				return fmt.Errorf("import gear: %w", err)
			}
			w.gearMap[*r.ID] = g.ID
			w.count("gears", true)
			return nil
		})
	case "gear_components":
		return eachRow(ru, e, func(r *componentRow) error {
			id := w.gearMap[*r.GearID]
			if id < 0 {
				w.count("gear_components", false)
				return nil
			}
			c := &fitness.GearComponent{GearID: id, Type: *r.Type, Brand: *r.Brand, Model: *r.Model,
				PurchaseDate: r.PurchaseDate.T, RetiredDate: r.RetiredDate.ptr(), Active: r.Active != nil && *r.Active,
				ExpectedKms: r.ExpectedKms, PurchaseValue: r.PurchaseValue.ptr()}
			w.count("gear_components", true)
			return tx.InsertGearComponents(ctx, []*fitness.GearComponent{c})
		})
	case "activities":
		n := 0
		return eachRow(ru, e, func(r *activityRow) error {
			a := r.activity(ru.im.now())
			key := ActivityKey{Start: a.StartTime.Unix(), Type: a.ActivityType, Distance: a.Distance}
			m := ru.acts[*r.ID]
			if w.ex.Activities[key] {
				m.newID = -1
				w.count("activities", false)
				if _, ok := ru.files[*r.ID]; ok {
					w.count("activity_files", false)
				}
				return nil
			}
			if r.GearID != nil {
				id := w.gearMap[*r.GearID]
				if id < 0 {
					id = -id
				}
				a.GearID = &id
			}
			f, hasFile := ru.files[*r.ID]
			if err := tx.InsertActivity(ctx, &a, f.ext); err != nil {
				return fmt.Errorf("import activity: %w", err)
			}
			m.newID = a.ID
			if hasFile {
				w.moves = append(w.moves, move{f.key, fitness.ActivityFileKey(a.ID, f.ext)})
				w.count("activity_files", true)
			}
			w.count("activities", true)
			if n++; n%250 == 0 {
				ru.progress(StageWriting, n, ru.nActs)
			}
			return nil
		})
	case "activity_laps":
		fl := &flusher[fitness.Lap]{fn: func(rs []fitness.Lap) error { return tx.InsertLaps(ctx, rs) }}
		err := eachRow(ru, e, func(r *lapRow) error {
			id, ok := w.newActivity(*r.ActivityID)
			w.count("activity_laps", ok)
			if !ok {
				return nil
			}
			l := r.lap(w.loc(*r.ActivityID))
			l.ActivityID = id
			return fl.add(l)
		})
		if err != nil {
			return err
		}
		return fl.flush()
	case "activity_sets":
		fl := &flusher[fitness.Set]{fn: func(rs []fitness.Set) error { return tx.InsertSets(ctx, rs) }}
		err := eachRow(ru, e, func(r *setRow) error {
			id, ok := w.newActivity(*r.ActivityID)
			w.count("activity_sets", ok)
			if !ok {
				return nil
			}
			s := r.set(w.loc(*r.ActivityID))
			s.ActivityID = id
			return fl.add(s)
		})
		if err != nil {
			return err
		}
		return fl.flush()
	case "activity_streams":
		fl := &flusher[fitness.Stream]{fn: func(rs []fitness.Stream) error { return tx.InsertStreams(ctx, rs) }}
		// Streams are big: flush by bytes too.
		size := 0
		err := eachRow(ru, e, func(r *streamRow) error {
			id, ok := w.newActivity(*r.ActivityID)
			w.count("activity_streams", ok)
			if !ok {
				return nil
			}
			size += len(r.StreamWaypoints)
			if err := fl.add(fitness.Stream{ActivityID: id, StreamType: *r.StreamType,
				Waypoints: json.RawMessage(bytes.Clone(r.StreamWaypoints)), StravaActivityStreamID: r.StravaActivityStreamID}); err != nil {
				return err
			}
			if size > 8<<20 {
				size = 0
				return fl.flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		return fl.flush()
	case "activity_workout_steps":
		fl := &flusher[fitness.WorkoutStep]{fn: func(rs []fitness.WorkoutStep) error { return tx.InsertSteps(ctx, rs) }}
		err := eachRow(ru, e, func(r *stepRow) error {
			id, ok := w.newActivity(*r.ActivityID)
			w.count("activity_workout_steps", ok)
			if !ok {
				return nil
			}
			s := r.step()
			s.ActivityID = id
			return fl.add(s)
		})
		if err != nil {
			return err
		}
		return fl.flush()
	case "activity_media":
		fl := &flusher[fitness.Media]{fn: func(rs []fitness.Media) error { return tx.InsertMedia(ctx, rs) }}
		err := eachRow(ru, e, func(r *mediaRow) error {
			id, ok := w.newActivity(*r.ActivityID)
			base, rest, _ := mediaName(*r.MediaPath)
			if !imageExts[mediaExt(rest)] {
				// Its file, if any, was skipped: Endurain imports PNG and JPEG only.
				w.count("activity_media", false)
				return nil
			}
			w.count("activity_media", ok)
			sf, hasFile := ru.media[norm.NFC.String(base)]
			if hasFile {
				w.count("media", ok)
			}
			if !ok {
				return nil
			}
			// The row keeps the uploader's name where Endurain keeps it; the file
			// goes under a key the server derives from it.
			m := fitness.Media{ActivityID: id, Name: rest, MediaPath: fitness.MediaPath(id, rest), MediaType: 1}
			if r.MediaType != nil {
				m.MediaType = *r.MediaType
			}
			if hasFile {
				w.moves = append(w.moves, move{sf.key, fitness.MediaKey(id, rest)})
			} else {
				ru.warn("%s has no file in the archive.", printable(base))
			}
			return fl.add(m)
		})
		if err != nil {
			return err
		}
		return fl.flush()
	case "activity_exercise_titles":
		return eachRow(ru, e, func(r *titleRow) error {
			k := [2]int{*r.ExerciseCategory, *r.ExerciseName}
			if w.ex.Titles[k] {
				w.count("activity_exercise_titles", false)
				return nil
			}
			w.ex.Titles[k] = true
			w.count("activity_exercise_titles", true)
			return tx.InsertExerciseTitles(ctx, []*fitness.ExerciseTitle{{ExerciseCategory: k[0], ExerciseName: k[1], WktStepName: *r.WktStepName}})
		})
	case "health_weight":
		return eachRow(ru, e, func(r *weightRow) error {
			if w.ex.WeightDates[r.Date.S] {
				w.count("health_weight", false)
				return nil
			}
			w.ex.WeightDates[r.Date.S] = true
			w.count("health_weight", true)
			return tx.InsertHealthWeights(ctx, []*fitness.HealthWeight{{Date: r.Date.S, Weight: r.Weight.S, BMI: r.BMI.ptr(),
				BodyFat: r.BodyFat.ptr(), BodyWater: r.BodyWater.ptr(), BoneMass: r.BoneMass.ptr(), MuscleMass: r.MuscleMass.ptr(),
				PhysiqueRating: r.PhysiqueRating, VisceralFat: r.VisceralFat.ptr(), MetabolicAge: r.MetabolicAge, Source: r.Source}})
		})
	case "health_targets":
		return eachRow(ru, e, func(r *targetsRow) error {
			w.count("health_targets", true)
			return tx.SetHealthTargets(ctx, fitness.HealthTargets{Weight: r.Weight.ptr(), Steps: r.Steps, Sleep: r.Sleep})
		})
	case "notifications":
		return eachRow(ru, e, func(r *notificationRow) error {
			created := r.CreatedAt.T
			if !r.CreatedAt.Valid {
				created = ru.im.now()
			}
			k := NotificationKey{Type: *r.Type, CreatedAt: created.Unix()}
			if w.ex.Notifications[k] {
				w.count("notifications", false)
				return nil
			}
			w.ex.Notifications[k] = true
			opts, err := w.remapOptions(r.Options)
			if err != nil {
				return err
			}
			w.count("notifications", true)
			return tx.InsertNotifications(ctx, []*fitness.Notification{{Type: *r.Type, Options: opts,
				Read: r.Read != nil && *r.Read, CreatedAt: created}})
		})
	case "user_goals":
		return eachRow(ru, e, func(r *goalRow) error {
			k := GoalKey{*r.Interval, *r.ActivityType, *r.GoalType}
			if w.ex.Goals[k] {
				w.count("user_goals", false)
				return nil
			}
			w.ex.Goals[k] = true
			w.count("user_goals", true)
			return tx.InsertGoals(ctx, []*fitness.Goal{{Interval: k.Interval, ActivityType: k.ActivityType, GoalType: k.GoalType,
				GoalCalories: r.GoalCalories, GoalActivitiesNumber: r.GoalActivitiesNumber, GoalDistance: r.GoalDistance,
				GoalElevation: r.GoalElevation, GoalDuration: r.GoalDuration}})
		})
	case "user_default_gear":
		return eachRow(ru, e, func(r *defaultGearRow) error {
			abs := make(map[int64]int64, len(w.gearMap))
			for k, v := range w.gearMap {
				if v < 0 {
					v = -v
				}
				abs[k] = v
			}
			dg, err := ru.defaultGear(*r, abs)
			if err != nil {
				return err
			}
			w.count("user_default_gear", true)
			return tx.SetDefaultGear(ctx, dg)
		})
	case "user_privacy_settings":
		return eachRow(ru, e, func(r *privacyRow) error {
			f := account.PrivacyFlags{HideActivityStartTime: orBool(r.HideActivityStartTime),
				HideActivityLocation: orBool(r.HideActivityLocation), HideActivityMap: orBool(r.HideActivityMap),
				HideActivityHR: orBool(r.HideActivityHR), HideActivityPower: orBool(r.HideActivityPower),
				HideActivityCadence: orBool(r.HideActivityCadence), HideActivityElevation: orBool(r.HideActivityElevation),
				HideActivitySpeed: orBool(r.HideActivitySpeed), HideActivityPace: orBool(r.HideActivityPace),
				HideActivityLaps: orBool(r.HideActivityLaps), HideActivityWorkoutSetsSteps: orBool(r.HideActivityWorkoutSetsSteps),
				HideActivityGear: orBool(r.HideActivityGear)}
			if r.DefaultActivityVisibility != nil {
				f.DefaultActivityVisibility = *r.DefaultActivityVisibility
			}
			w.count("user_privacy_settings", true)
			return tx.SetPrivacy(ctx, f)
		})
	}
	return nil // user, identity providers, integrations: handled in the first pass
}

// remapOptions points a notification's activity_id at the imported activity,
// or at nothing when the activity is not in the archive (never at someone
// else's activity).
func (w *writer) remapOptions(raw rawJSON) (json.RawMessage, error) {
	if raw == nil {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &fieldError{"field \"options\" must be an object."}
	}
	v, ok := m["activity_id"]
	if !ok {
		return json.RawMessage(bytes.Clone(raw)), nil
	}
	var old int64
	m["activity_id"] = json.RawMessage("null")
	if json.Unmarshal(v, &old) == nil {
		if meta, ok := w.ru.acts[old]; ok && meta.newID > 0 {
			m["activity_id"] = json.RawMessage(fmt.Sprint(meta.newID))
		}
	}
	return json.Marshal(m)
}
