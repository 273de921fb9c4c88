package portability

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/fitness"
)

// checker is a row that validates itself.
type checker interface{ check() error }

// spooledTables are re-read from a compact binary spool written by the first
// pass, so the write transaction (on SQLite the one write lock) does not wait
// for JSON decoding of the big waypoint arrays: that halves how long the lock
// is held. (gob is not used: it flattens a pointer to zero into nil.)
var spooledTables = map[string]bool{"activity_streams": true}

// eachRow decodes every row of a data entry through the entry checks and the
// JSON limits, and calls fn with it; a value problem names the entry and row.
// In the first pass the rows of spooled tables are also written to a spool;
// in the second pass they are read back from it.
func eachRow[T any](ru *run, e entry, fn func(*T) error) error {
	if sp, ok := ru.spools[e.f.Name]; ok && ru.writing {
		return readSpool(ru, sp, fn)
	}
	var sp *spool
	if !ru.writing && spooledTables[e.table] {
		var err error
		if sp, err = ru.newSpool(e.f.Name); err != nil {
			return err
		}
	}
	c, err := ru.open(e)
	if err != nil {
		return err
	}
	defer c.rc.Close()
	rr, err := newRowReader(c, e.f.Name, ru.lim)
	if err != nil {
		return err
	}
	for {
		if err := ru.ctx.Err(); err != nil {
			return err
		}
		var row T
		ok, err := rr.next(&row)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if ck, isChecker := any(&row).(checker); isChecker {
			if err := ck.check(); err != nil {
				return jsonErr(e.f.Name, rr.n, err)
			}
		}
		if err := checkValues(&row); err != nil {
			return jsonErr(e.f.Name, rr.n, err)
		}
		if err := fn(&row); err != nil {
			var fe *fieldError
			if errors.As(err, &fe) {
				return jsonErr(e.f.Name, rr.n, err)
			}
			return err
		}
		if sp != nil {
			if err := sp.put(any(&row)); err != nil {
				return errStorage(err)
			}
		}
	}
	if err := c.drain(); err != nil {
		return err
	}
	if sp != nil {
		if err := sp.w.Flush(); err != nil {
			return errStorage(err)
		}
		sp.w = nil // an archive has hundreds of stream files: keep no buffer per file
	}
	ru.realBytes += c.n
	if ru.realBytes > ru.lim.MaxTotalBytes {
		return errTooLarge("The archive's content is larger than %d bytes.", ru.lim.MaxTotalBytes)
	}
	return nil
}

// spool is one data entry's validated rows, gob-encoded in a temporary file.
type spool struct {
	f *os.File
	w *bufio.Writer
}

func (ru *run) newSpool(name string) (*spool, error) {
	f, err := os.CreateTemp(ru.im.TempDir, "trailpass-import-rows-*")
	if err != nil {
		return nil, errStorage(err)
	}
	os.Remove(f.Name()) // unlinked at once: nothing is left behind, even on a crash
	sp := &spool{f: f, w: bufio.NewWriterSize(f, 64<<10)}
	ru.spools[name] = sp
	return sp, nil
}

func (ru *run) closeSpools() {
	for _, sp := range ru.spools {
		sp.f.Close()
	}
}

// put appends a stream row: activity id, type, whether a Strava id is set,
// the Strava id, and the waypoints with their length.
func (sp *spool) put(v any) error {
	r, ok := v.(*streamRow)
	if !ok {
		return fmt.Errorf("spool: unsupported row %T", v)
	}
	var hdr [40]byte
	binary.LittleEndian.PutUint64(hdr[0:], uint64(*r.ActivityID))
	binary.LittleEndian.PutUint64(hdr[8:], uint64(*r.StreamType))
	if r.StravaActivityStreamID != nil {
		hdr[16] = 1
		binary.LittleEndian.PutUint64(hdr[24:], uint64(*r.StravaActivityStreamID))
	}
	binary.LittleEndian.PutUint64(hdr[32:], uint64(len(r.StreamWaypoints)))
	sp.w.Write(hdr[:])
	_, err := sp.w.Write(r.StreamWaypoints)
	return err
}

func readSpool[T any](ru *run, sp *spool, fn func(*T) error) error {
	if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
		return errStorage(err)
	}
	br := bufio.NewReaderSize(sp.f, 64<<10)
	var hdr [40]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read row spool: %w", err)
		}
		id := int64(binary.LittleEndian.Uint64(hdr[0:]))
		typ := int(binary.LittleEndian.Uint64(hdr[8:]))
		strava := int64(binary.LittleEndian.Uint64(hdr[24:]))
		wp := make(rawJSON, binary.LittleEndian.Uint64(hdr[32:]))
		if _, err := io.ReadFull(br, wp); err != nil {
			return fmt.Errorf("read row spool: %w", err)
		}
		row := &streamRow{ActivityID: &id, StreamType: &typ, StreamWaypoints: wp}
		if hdr[16] == 1 {
			row.StravaActivityStreamID = &strava
		}
		t, ok := any(row).(*T)
		if !ok {
			return fmt.Errorf("spool: unsupported row type")
		}
		if err := fn(t); err != nil {
			return err
		}
	}
}

func (ru *run) needActivity(id *int64) error {
	if _, ok := ru.acts[*id]; !ok {
		return errIntegrity("activity_id %d refers to no activity in the archive.", *id)
	}
	return nil
}

func (ru *run) needGear(id *int64) error {
	if id == nil {
		return nil
	}
	if _, ok := ru.gears[*id]; !ok {
		return errIntegrity("gear_id %d refers to no gear in the archive.", *id)
	}
	return nil
}

// integrity wraps a reference problem with the entry's name.
func integrity(name string, err error) error {
	if err == nil {
		return nil
	}
	var ae *account.Error
	if errors.As(err, &ae) && ae.Code == account.EUNPROCESSABLE {
		return errIntegrity("%s: %s", name, strings.TrimPrefix(ae.Message, "Data integrity error during "+opImport+". "))
	}
	return err
}

// validateData checks one data file in the first pass.
func (ru *run) validateData(e entry) error {
	name := e.f.Name
	switch e.table {
	case "gears":
		nicks := map[string]bool{}
		return eachRow(ru, e, func(r *gearRow) error {
			if _, dup := ru.gears[*r.ID]; dup {
				return errIntegrity("%s: gear id %d appears twice.", name, *r.ID)
			}
			if nicks[*r.Nickname] {
				return errIntegrity("%s: nickname %q appears twice.", name, printable(*r.Nickname))
			}
			nicks[*r.Nickname] = true
			ru.gears[*r.ID] = *r.Nickname
			return nil
		})
	case "activities":
		return eachRow(ru, e, func(r *activityRow) error {
			if _, dup := ru.acts[*r.ID]; dup {
				return errIntegrity("%s: activity id %d appears twice.", name, *r.ID)
			}
			if err := ru.needGear(r.GearID); err != nil {
				return integrity(name, err)
			}
			tz := ""
			if r.Timezone != nil {
				tz = *r.Timezone
			}
			ru.acts[*r.ID] = &actMeta{tz: tz}
			ru.nActs++
			if ru.nActs > ru.lim.MaxActivities {
				return errTooMany("The archive has more than %d activities.", ru.lim.MaxActivities)
			}
			return nil
		})
	case "gear_components":
		return eachRow(ru, e, func(r *componentRow) error { return integrity(name, ru.needGear(r.GearID)) })
	case "activity_laps":
		return eachRow(ru, e, func(r *lapRow) error { return integrity(name, ru.needActivity(r.ActivityID)) })
	case "activity_sets":
		return eachRow(ru, e, func(r *setRow) error { return integrity(name, ru.needActivity(r.ActivityID)) })
	case "activity_streams":
		return eachRow(ru, e, func(r *streamRow) error { return integrity(name, ru.needActivity(r.ActivityID)) })
	case "activity_workout_steps":
		return eachRow(ru, e, func(r *stepRow) error { return integrity(name, ru.needActivity(r.ActivityID)) })
	case "activity_media":
		return eachRow(ru, e, func(r *mediaRow) error {
			if r.ActivityID == nil || r.MediaPath == nil {
				return &fieldError{"fields \"activity_id\" and \"media_path\" are required."}
			}
			base, rest, ok := mediaName(*r.MediaPath)
			if !ok {
				return &fieldError{"field \"media_path\" must name a file \"<activity id>_<file name>\" (a UTF-8 name of at most 255 bytes, without slashes or control characters)."}
			}
			// Two rows for one file, or two names one activity cannot hold apart,
			// would break media_path's uniqueness or move one file twice.
			for _, k := range []string{"f" + foldName(base), fmt.Sprintf("r%d_%s", *r.ActivityID, foldName(rest))} {
				if ru.mediaRows[k] {
					return &fieldError{fmt.Sprintf("media_path %q names a file another row already names.", printable(base))}
				}
				ru.mediaRows[k] = true
			}
			return integrity(name, ru.needActivity(r.ActivityID))
		})
	case "activity_exercise_titles":
		return eachRow(ru, e, func(r *titleRow) error {
			if r.ExerciseCategory == nil || r.ExerciseName == nil || r.WktStepName == nil || len(*r.WktStepName) > 250 {
				return &fieldError{"fields \"exercise_category\", \"exercise_name\" and \"wkt_step_name\" are required."}
			}
			return nil
		})
	case "health_weight":
		return eachRow(ru, e, func(r *weightRow) error {
			if !r.Date.Valid || !r.Weight.Valid {
				return &fieldError{"fields \"date\" and \"weight\" are required."}
			}
			return maxLens(map[string]*string{"source": r.Source})
		})
	case "health_targets":
		return eachRow(ru, e, func(r *targetsRow) error { return nil })
	case "notifications":
		return eachRow(ru, e, func(r *notificationRow) error {
			if r.Type == nil || *r.Type < 1 || *r.Type > 1000 {
				return &fieldError{"field \"type\" is required and must be between 1 and 1000."}
			}
			if r.Options != nil && r.Options.kind() != '{' {
				return &fieldError{"field \"options\" must be an object."}
			}
			return nil
		})
	case "user_goals":
		return eachRow(ru, e, func(r *goalRow) error { return nil })
	case "user_default_gear":
		return eachRow(ru, e, func(r *defaultGearRow) error {
			_, err := ru.defaultGear(*r, nil)
			return integrity(name, err)
		})
	case "user_privacy_settings":
		return eachRow(ru, e, func(r *privacyRow) error {
			if v := r.DefaultActivityVisibility; v != nil && (*v < 0 || *v > 2) {
				return &fieldError{"field \"default_activity_visibility\" must be 0, 1 or 2."}
			}
			return nil
		})
	case "user":
		n := 0
		return eachRow(ru, e, func(r *userRow) error {
			if n++; n > 1 {
				return &fieldError{"the file must hold one user."}
			}
			return ru.checkProfile(r)
		})
	case "user_identity_providers":
		n := 0
		err := eachRow(ru, e, func(*anyRow) error { n++; return nil })
		if n > 0 {
			ru.warn("%d identity-provider links were not imported: link them again from the profile.", n)
			ru.res.Skipped["user_identity_providers"] = n
		}
		return err
	case "user_integrations":
		n := 0
		err := eachRow(ru, e, func(*anyRow) error { n++; return nil })
		if n > 0 {
			ru.warn("Integration settings and tokens were not imported: connect Strava and Garmin again.")
			ru.res.Skipped["user_integrations"] = n
		}
		return err
	}
	return errStructure("Entry %q is not part of the export layout.", name)
}

// defaultGear maps a users_default_gear row's *_gear_id columns (windsurf
// included) through gearMap; with a nil map it only checks the references.
func (ru *run) defaultGear(r defaultGearRow, gearMap map[int64]int64) (fitness.DefaultGear, error) {
	dg := fitness.DefaultGear{}
	for _, t := range fitness.DefaultGearTypes {
		raw, ok := r[t+"_gear_id"]
		if !ok || string(raw) == "null" {
			continue
		}
		var id int64
		if err := json.Unmarshal(raw, &id); err != nil {
			return nil, &fieldError{"field \"" + t + "_gear_id\" must be an integer or null."}
		}
		if err := ru.needGear(&id); err != nil {
			return nil, err
		}
		if gearMap != nil {
			dg[t] = gearMap[id]
		}
	}
	return dg, nil
}

// profileCapture runs PUT /profile's rules without writing: UpdateProfile
// hands over the validated user instead of storing it.
type profileCapture struct {
	account.ProfileStore
	user      *account.User
	recompute bool
}

func (p *profileCapture) UpdateProfile(_ context.Context, u *account.User, recompute bool) error {
	p.user, p.recompute = u, recompute
	return nil
}

// checkProfile validates the profile fields of user.json with the same
// whitelist and rules as PUT /profile. Username and email are never taken: the
// account keeps its own identity.
func (ru *run) checkProfile(r *userRow) error {
	in := account.ProfileUpdate{Name: r.Name, PreferredLanguage: r.PreferredLanguage, Gender: r.Gender,
		Units: r.Units, FirstDayOfWeek: r.FirstDayOfWeek, Currency: r.Currency,
		City:         account.Nullable[string]{Set: true, Value: r.City},
		Height:       account.Nullable[int]{Set: true, Value: r.Height},
		MaxHeartRate: account.Nullable[int]{Set: true, Value: r.MaxHeartRate}}
	if r.Birthdate.Valid {
		in.Birthdate = account.Nullable[string]{Set: true, Value: &r.Birthdate.S}
	} else {
		in.Birthdate = account.Nullable[string]{Set: true}
	}
	capture := &profileCapture{ProfileStore: ru.im.Profiles}
	ps := &account.ProfileService{Store: capture, Now: ru.im.now}
	if _, err := ps.UpdateProfile(ru.ctx, ru.userID, in); err != nil {
		return err
	}
	ru.profile = capture
	return nil
}
