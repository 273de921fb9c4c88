package portability

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/fitness"
	"github.com/trailpass/trailpass/internal/profile"
)

// checker is a row that validates itself.
type checker interface{ check() error }

// eachRow decodes every row of a data entry through the entry checks and the
// JSON limits, and calls fn with it; a value problem names the entry and row.
func eachRow[T any](ru *run, e entry, fn func(*T) error) error {
	n, err := readRows(ru.ctx, ru, e, fn)
	if err != nil {
		return err
	}
	return ru.addBytes(n)
}

// addBytes adds an entry's real size to the archive's total, which must stay
// within MaxTotalBytes.
func (ru *run) addBytes(n int64) error {
	ru.realBytes += n
	if ru.realBytes > ru.lim.MaxTotalBytes {
		return errTooLarge("The archive's content is larger than %d bytes.", ru.lim.MaxTotalBytes)
	}
	return nil
}

// readRows is eachRow without the archive total, touching nothing of ru but
// what it only reads, so entries can be read on workers; it returns the
// entry's real size.
func readRows[T any](ctx context.Context, ru *run, e entry, fn func(*T) error) (int64, error) {
	c, err := ru.open(e)
	if err != nil {
		return 0, err
	}
	defer c.rc.Close()
	rr, err := newRowReader(c, e.f.Name, ru.lim)
	if err != nil {
		return 0, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		var row T
		ok, err := rr.next(&row)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		if ck, isChecker := any(&row).(checker); isChecker {
			if err := ck.check(); err != nil {
				return 0, jsonErr(e.f.Name, rr.n, err)
			}
		}
		if err := checkValues(&row); err != nil {
			return 0, jsonErr(e.f.Name, rr.n, err)
		}
		if err := fn(&row); err != nil {
			return 0, rowErr(e.f.Name, rr.n, err)
		}
	}
	if err := c.drain(); err != nil {
		return 0, err
	}
	return c.n, nil
}

// rowErr is the error of a row's own checks (fn of readRows): a value
// problem names the entry and the row; anything else stays as it is.
func rowErr(name string, row int, err error) error {
	var fe *fieldError
	if errors.As(err, &fe) {
		return jsonErr(name, row, err)
	}
	return err
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
	if d := fitness.Describe(fitness.Table(e.table)); d != nil && e.table != string(fitness.Users) &&
		d.Table != fitness.UserIdentityProviders && d.Table != fitness.UserIntegrations {
		return ru.eachDescRow(e, d, func(row []any) error { return ru.checkRow(name, d, row) })
	}
	switch e.table {
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

// checkedProfile is user.json's profile applied to the account under PUT
// /profile's rules, for the write pass to store.
type checkedProfile struct {
	user      *account.User
	recompute bool // the height changed: recompute the weights' BMI
}

// checkProfile validates the profile fields of user.json with the same
// whitelist and rules as PUT /profile. Username and email are never taken: the
// account keeps its own identity.
func (ru *run) checkProfile(r *userRow) error {
	in := profile.Update{Name: r.Name, PreferredLanguage: r.PreferredLanguage, Gender: r.Gender,
		Units: r.Units, FirstDayOfWeek: r.FirstDayOfWeek, Currency: r.Currency,
		City:         profile.Nullable[string]{Set: true, Value: r.City},
		Height:       profile.Nullable[int]{Set: true, Value: r.Height},
		MaxHeartRate: profile.Nullable[int]{Set: true, Value: r.MaxHeartRate}}
	if r.Birthdate.Valid {
		in.Birthdate = profile.Nullable[string]{Set: true, Value: &r.Birthdate.S}
	} else {
		in.Birthdate = profile.Nullable[string]{Set: true}
	}
	u, err := ru.im.Profiles.FindUserByID(ru.ctx, ru.userID)
	if err != nil {
		return err
	}
	oldHeight := u.Height
	if err := profile.Apply(u, in, ru.im.now()); err != nil {
		return err
	}
	u.UpdatedAt = ru.im.now().UTC()
	ru.profile = &checkedProfile{user: u, recompute: profile.HeightChanged(oldHeight, u.Height)}
	return nil
}

// checkRow is the first pass's check of a decoded row beyond its columns'
// own rules: ids unique, references inside the archive, and the few tables
// with rules of their own (gear nicknames, media names, goals).
func (ru *run) checkRow(name string, d *fitness.Desc, row []any) error {
	get := func(col string) any { return row[d.Index(col)] }
	for i, c := range d.Cols {
		if ref, ok := row[i].(int64); ok && c.Ref == fitness.GearRef {
			if err := ru.needGear(&ref); err != nil {
				return integrity(name, err)
			}
		}
	}
	switch d.Table {
	case fitness.Gears:
		id, nick := get("id").(int64), str(get("nickname"))
		if _, dup := ru.gears[id]; dup {
			return errIntegrity("%s: gear id %d appears twice.", name, id)
		}
		if nick == "" {
			return &fieldError{"field \"nickname\" is required."}
		}
		for _, n := range ru.gears {
			if n == nick {
				return errIntegrity("%s: nickname %q appears twice.", name, printable(nick))
			}
		}
		ru.gears[id] = nick
	case fitness.Activities:
		id := get("id").(int64)
		if _, dup := ru.acts[id]; dup {
			return errIntegrity("%s: activity id %d appears twice.", name, id)
		}
		ru.acts[id] = &actMeta{loc: ru.location(str(get("timezone")))}
		ru.nActs++
		if ru.nActs > ru.lim.MaxActivities {
			return errTooMany("The archive has more than %d activities.", ru.lim.MaxActivities)
		}
	case fitness.ActivityMedia:
		if err := ru.checkMediaRow(get("activity_id").(int64), str(get("media_path"))); err != nil {
			return err
		}
	case fitness.UserGoals:
		return checkGoal(d, row)
	}
	if d.ByActivity {
		id := get("activity_id").(int64)
		return integrity(name, ru.needActivity(&id))
	}
	return nil
}

// location caches the zones of the archive's activities; an unknown or empty
// zone is UTC.
func (ru *run) location(tz string) *time.Location {
	if ru.locs == nil {
		ru.locs = map[string]*time.Location{}
	}
	return location(ru.locs, tz)
}

// checkMediaRow checks a media row's path: a file name the activity can hold,
// named by no other row (two rows for one file, or two names one activity
// cannot hold apart, would break media_path's uniqueness or move one file twice).
func (ru *run) checkMediaRow(activityID int64, path string) error {
	base, rest, ok := mediaName(path)
	if !ok {
		return &fieldError{"field \"media_path\" must name a file \"<activity id>_<file name>\" (a UTF-8 name of at most 255 bytes, without slashes or control characters)."}
	}
	for _, k := range []string{"f" + foldName(base), fmt.Sprintf("r%d_%s", activityID, foldName(rest))} {
		if ru.mediaRows[k] {
			return &fieldError{fmt.Sprintf("media_path %q names a file another row already names.", printable(base))}
		}
		ru.mediaRows[k] = true
	}
	return nil
}
