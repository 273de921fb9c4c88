package portability

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/trailpass/trailpass/internal/fitness"
)

// secretKeys are written as null whatever the store returns, and droppedKeys are
// never written: a second guard behind the store's NULL columns, so a schema or
// query change cannot leak a secret into an archive.
var secretKeys = map[string]bool{
	"mfa_secret": true, "strava_client_id": true, "strava_client_secret": true, "strava_state": true,
	"strava_token": true, "strava_refresh_token": true, "garminconnect_oauth1": true,
	"garminconnect_oauth2": true, "idp_refresh_token": true, "client_secret": true,
}

var droppedKeys = map[string]bool{"password": true, "code_hash": true, "token_hash": true, "secret_ciphertext": true}

// Endurain writes an activity's own times as ISO text without offset; other
// datetimes go through Python's str(): a space, and microseconds when non-zero.
const (
	isoLayout    = "2006-01-02T15:04:05"
	pythonLayout = "2006-01-02 15:04:05"
)

// rowEncoder writes rows as Python json.dumps does by default (", " and ": "
// separators, non-ASCII kept), straight into the entry's buffered writer.
type rowEncoder struct {
	w     *bufio.Writer
	table fitness.Table
	cols  []fitness.Column
	// keys[i] is cols[i]'s key as written, `"name": `, encoded once rather
	// than for every row; drop and secret mark droppedKeys and secretKeys.
	keys         []string
	drop, secret []bool
	n            int
	str          bytes.Buffer
	enc          *json.Encoder
	locs         map[string]*time.Location
}

func newRowEncoder(w *bufio.Writer, t fitness.Table, cols []fitness.Column) *rowEncoder {
	e := &rowEncoder{w: w, table: t, cols: cols, locs: map[string]*time.Location{},
		keys: make([]string, len(cols)), drop: make([]bool, len(cols)), secret: make([]bool, len(cols))}
	e.enc = json.NewEncoder(&e.str)
	e.enc.SetEscapeHTML(false)
	for i, c := range cols {
		e.drop[i], e.secret[i] = droppedKeys[c.Name], secretKeys[c.Name]
		e.enc.Encode(c.Name)
		e.keys[i] = string(bytes.TrimSuffix(e.str.Bytes(), []byte("\n"))) + ": "
		e.str.Reset()
	}
	return e
}

func (e *rowEncoder) begin() { e.w.WriteByte('[') }

func (e *rowEncoder) end() { e.w.WriteByte(']') }

func (e *rowEncoder) row(r fitness.Row) {
	if e.n > 0 {
		e.w.WriteString(", ")
	}
	e.n++
	e.w.WriteByte('{')
	first := true
	for i, c := range e.cols {
		if e.drop[i] {
			continue
		}
		if !first {
			e.w.WriteString(", ")
		}
		first = false
		e.w.WriteString(e.keys[i])
		v := r.Values[i]
		if e.secret[i] {
			v = nil
		}
		e.value(c, v, r.Timezone)
	}
	e.w.WriteByte('}')
}

func (e *rowEncoder) value(c fitness.Column, v any, tz string) {
	switch v := v.(type) {
	case nil:
		e.w.WriteString("null")
	case int64:
		e.w.WriteString(strconv.FormatInt(v, 10))
	case bool:
		e.w.WriteString(strconv.FormatBool(v))
	case string:
		e.writeString(v)
	case validJSON:
		e.w.Write(v)
	case json.RawMessage:
		if jsonValid(v) {
			e.w.Write(v)
		} else {
			e.writeString(string(v))
		}
	case time.Time:
		e.writeString(e.formatTime(c.Form, v, tz))
	default:
		e.w.WriteString("null")
	}
}

// formatTime renders t in the column's archive form.
func (e *rowEncoder) formatTime(f fitness.Form, t time.Time, tz string) string {
	switch f {
	case fitness.ISO:
		return t.UTC().Format(isoLayout)
	case fitness.Local:
		return t.In(location(e.locs, tz)).Format(isoLayout)
	}
	return pythonTime(t)
}

// location caches zones in locs, since time.LoadLocation reads the zone
// database on every call; an unknown or empty zone means UTC.
func location(locs map[string]*time.Location, tz string) *time.Location {
	if loc, ok := locs[tz]; ok {
		return loc
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" {
		loc = time.UTC
	}
	locs[tz] = loc
	return loc
}

// pythonTime is str() of a naive Python datetime holding t in UTC.
func pythonTime(t time.Time) string {
	t = t.UTC()
	s := t.Format(pythonLayout)
	if us := t.Nanosecond() / 1000; us != 0 {
		s += "." + strconv.Itoa(1000000 + us)[1:]
	}
	return s
}

func (e *rowEncoder) writeString(s string) {
	e.str.Reset()
	e.enc.Encode(s)
	b := e.str.Bytes()
	e.w.Write(b[:len(b)-1]) // Encode appends a newline
}

func jsonEncoder(w *bufio.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	return enc
}

// validJSON is a json.RawMessage already checked by prepareRaw.
type validJSON []byte

// prepareRaw does the encoder's JSON check ahead, off the encoding goroutine:
// valid json.RawMessage values become validJSON (written as they are), invalid
// ones strings (written as a JSON string), exactly what value would write.
func prepareRaw(rows []fitness.Row) {
	for _, r := range rows {
		for i, v := range r.Values {
			if raw, ok := v.(json.RawMessage); ok {
				if jsonValid(raw) {
					r.Values[i] = validJSON(raw)
				} else {
					r.Values[i] = string(raw)
				}
			}
		}
	}
}
