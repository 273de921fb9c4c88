package portability

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"strings"
	"time"
)

// jsonGuard watches the bytes a json.Decoder reads and fails the read as soon as
// nesting, a string or a row grows past its limit, so a hostile file (a 50 MB
// string, 100,000 open brackets) is refused after reading at most one limit's
// worth, before the decoder buffers it.
type jsonGuard struct {
	r        io.Reader
	name     string
	lim      Limits
	depth    int
	inStr    bool
	esc      bool
	strLen   int
	rowBytes int64
	err      error
}

func (g *jsonGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	for _, c := range p[:n] {
		if g.depth >= 2 || (g.depth == 1 && g.inStr) {
			g.rowBytes++
		}
		if g.inStr {
			g.strLen++
			switch {
			case g.esc:
				g.esc = false
			case c == '\\':
				g.esc = true
			case c == '"':
				g.inStr = false
			}
			if g.strLen > g.lim.MaxJSONString {
				g.err = errJSON("%s: a string is longer than %d bytes.", g.name, g.lim.MaxJSONString)
			}
		} else {
			switch c {
			case '"':
				g.inStr, g.strLen = true, 0
			case '[', '{':
				g.depth++
				if g.depth > g.lim.MaxJSONDepth {
					g.err = errJSON("%s: nested deeper than %d levels.", g.name, g.lim.MaxJSONDepth)
				}
			case ']', '}':
				g.depth--
				if g.depth <= 1 {
					g.rowBytes = 0
				}
			}
		}
		if g.rowBytes > g.lim.MaxRowBytes {
			g.err = errTooLarge("%s: a row is larger than %d bytes.", g.name, g.lim.MaxRowBytes)
		}
		if g.err != nil {
			return 0, g.err
		}
	}
	return n, err
}

// rowReader reads a data file: one top-level JSON array of objects, one row at
// a time.
type rowReader struct {
	dec  *json.Decoder
	name string
	n    int
}

func newRowReader(r io.Reader, name string, lim Limits) (*rowReader, error) {
	dec := json.NewDecoder(&jsonGuard{r: r, name: name, lim: lim})
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(name, 0, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, errSchema("%s: the file must hold a JSON array.", name)
	}
	return &rowReader{dec: dec, name: name}, nil
}

// next decodes the next row into v; false at the end of the array, after
// checking that nothing follows it.
func (rr *rowReader) next(v any) (bool, error) {
	if !rr.dec.More() {
		if _, err := rr.dec.Token(); err != nil {
			return false, jsonErr(rr.name, rr.n, err)
		}
		if _, err := rr.dec.Token(); err != io.EOF {
			if err != nil && isAccountErr(err) {
				return false, err
			}
			return false, errJSON("%s: data after the end of the array.", rr.name)
		}
		return false, nil
	}
	rr.n++
	if err := rr.dec.Decode(v); err != nil {
		return false, jsonErr(rr.name, rr.n, err)
	}
	return true, nil
}

// jsonErr turns a decoding error into the right client error, naming the entry
// and the row.
func jsonErr(name string, row int, err error) error {
	if isAccountErr(err) {
		return err
	}
	var te *json.UnmarshalTypeError
	var fe *fieldError
	switch {
	case errors.As(err, &fe):
		return errSchema("%s row %d: %s", name, row, fe.msg)
	case errors.As(err, &te):
		return errSchema("%s row %d: field %q must be %s, not %s.", name, row, te.Field, goTypeName(te.Type.String()), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errJSON("%s: unexpected end of the file.", name)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return errJSON("%s: %v at byte %d.", name, se, se.Offset)
	}
	if strings.HasPrefix(err.Error(), "json: ") || strings.Contains(err.Error(), "invalid character") {
		return errJSON("%s row %d: %v", name, row, err)
	}
	// Anything else comes from reading the archive (CRC, size lie).
	return err
}

func goTypeName(t string) string {
	switch {
	case strings.Contains(t, "int"):
		return "an integer"
	case strings.Contains(t, "bool"):
		return "a boolean"
	case strings.Contains(t, "string"), strings.Contains(t, "jtime"), strings.Contains(t, "jdec"):
		return "a string"
	}
	return "of another type"
}

// fieldError is a value error raised by the value types below.
type fieldError struct{ msg string }

func (e *fieldError) Error() string { return e.msg }

// jdec is a DECIMAL column: Endurain writes "12.3400000000" strings, older
// archives and other tools numbers; both become exact decimal text.
type jdec struct {
	S     string
	Valid bool
}

var rePlainDecimal = regexp.MustCompile(`^-?[0-9]{1,20}(\.[0-9]{1,20})?$`)

func (d *jdec) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = jdec{}
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	s = strings.TrimSpace(s)
	if !rePlainDecimal.MatchString(s) {
		// Python writes Decimal('0E-10') as "0E-10"; accept exponents, within reason.
		r, ok := new(big.Rat).SetString(s)
		if !ok || len(s) > 40 || strings.ContainsAny(s, "/") {
			return &fieldError{fmt.Sprintf("%q is not a decimal number.", printable(s))}
		}
		s = r.FloatString(10)
		if len(s) > 32 {
			return &fieldError{fmt.Sprintf("%q is out of range.", printable(s))}
		}
	}
	// NUMERIC(10,2) is the narrowest decimal column: 8 integer digits.
	if i := strings.IndexByte(strings.TrimPrefix(s, "-"), '.'); i > 8 || i < 0 && len(strings.TrimPrefix(s, "-")) > 8 {
		return &fieldError{fmt.Sprintf("%q is out of range.", printable(s))}
	}
	*d = jdec{S: s, Valid: true}
	return nil
}

// jtime is a datetime: "YYYY-MM-DD HH:MM:SS" with a space or T, optional
// fraction, optional offset or Z. Without an offset it is naive: UTC, or for
// laps and sets the activity's local time (fixed by the caller).
type jtime struct {
	T     time.Time
	Naive bool
	Valid bool
}

var timeLayouts = []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999"}

func (t *jtime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = jtime{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &fieldError{"a datetime must be a string."}
	}
	v, naive, err := parseTime(s)
	if err != nil {
		return err
	}
	*t = jtime{T: v, Naive: naive, Valid: true}
	return nil
}

func parseTime(s string) (time.Time, bool, error) {
	if len(s) >= 11 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	if len(s) == 10 {
		s += "T00:00:00"
	}
	for i, layout := range timeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			if v.Year() < 1900 || v.Year() > 2200 {
				break
			}
			return v.UTC(), i == 1, nil
		}
	}
	return time.Time{}, false, &fieldError{fmt.Sprintf("%q is not a datetime.", printable(s))}
}

// in reinterprets a naive time as wall-clock time in loc.
func (t jtime) in(loc *time.Location) time.Time {
	if !t.Naive || loc == nil {
		return t.T
	}
	v := t.T
	return time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), loc).UTC()
}

// jdate is a DATE column, "YYYY-MM-DD" (a datetime is cut to its date).
type jdate struct {
	S     string
	Valid bool
}

func (d *jdate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = jdate{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &fieldError{"a date must be a string."}
	}
	if len(s) > 10 {
		s = s[:10]
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return &fieldError{fmt.Sprintf("%q is not a date.", printable(s))}
	}
	*d = jdate{S: s, Valid: true}
	return nil
}

// rawJSON keeps a JSON column's value (an object or array), nil for null.
type rawJSON []byte

func (r *rawJSON) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*r = nil
		return nil
	}
	*r = append((*r)[:0], b...)
	return nil
}

func (r rawJSON) kind() byte {
	b := bytes.TrimSpace(r)
	if len(b) == 0 {
		return 0
	}
	return b[0]
}
