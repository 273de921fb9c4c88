package portability

import (
	"context"
	"encoding/json"
	"errors"
	"io"
)

// Stream samples are most of an archive's bytes, and reading them through
// encoding/json scanned each byte four times (the guard, the Decoder finding
// the row, Unmarshal checking it, then splitting the object), three of them
// with a function call per byte: 40 % of an import's CPU. readObjRows reads
// the rows of a well-formed data entry in two tight passes instead: one finds
// each row's end while applying the guard's limits, the other splits the row
// into its keys and values with jsonvalid.go's grammar check.
//
// It is a fast path, not a second reader. It only accepts what it has
// checked the old path (readRows with a jsonGuard) accepts with the same
// rows; at the first thing it is not sure of (a syntax error, a limit close,
// an escaped key, anything but an array of objects) it hands the entry to
// readRows, which reads it again from the start, skips the rows already
// given to fn and reports the old path's own error
// (TestReadObjRows_SameAsDecoder, FuzzReadObjRows). One difference remains:
// the guard fails a whole read of the decoder's, so a limit broken a few
// kilobytes after a row that fails its checks was reported first; now the
// row's error is.

// errDoubt stops the fast path; readObjRows then falls back to readRows.
var errDoubt = errors.New("fast row reader: not sure")

// readObjRows calls fn with each row of a data entry as readRows[objRow] does,
// and returns the entry's real size.
func readObjRows(ctx context.Context, ru *run, e entry, fn func(*objRow) error) (int64, error) {
	c, err := ru.open(e)
	if err != nil {
		return 0, err
	}
	rs := &rowScanner{r: c, lim: ru.lim}
	done, err := rs.each(ctx, func(row *objRow) error {
		if err := fn(row); err != nil {
			return rowErr(e.f.Name, rs.n, err)
		}
		return nil
	})
	if err == errDoubt {
		c.rc.Close()
		skip := done
		return readRows(ctx, ru, e, func(row *objRow) error {
			if skip > 0 {
				skip--
				return nil
			}
			return fn(row)
		})
	}
	if err != nil {
		c.rc.Close()
		return 0, err
	}
	if err := c.drain(); err != nil {
		return 0, err
	}
	return c.n, nil
}

// rowScanner finds the rows of a top-level JSON array of objects.
type rowScanner struct {
	r   io.Reader
	lim Limits
	buf []byte // unconsumed input is buf[off:]
	off int
	eof bool
	n   int // rows given to fn
}

// fill reads more input; false at the end of the input.
func (rs *rowScanner) fill() (bool, error) {
	if rs.eof {
		return false, nil
	}
	if rs.off > 0 {
		rs.buf = append(rs.buf[:0], rs.buf[rs.off:]...)
		rs.off = 0
	}
	if cap(rs.buf)-len(rs.buf) < 32<<10 {
		rs.buf = append(rs.buf, make([]byte, 64<<10)...)[:len(rs.buf)]
	}
	n, err := rs.r.Read(rs.buf[len(rs.buf):cap(rs.buf)])
	rs.buf = rs.buf[:len(rs.buf)+n]
	if err == io.EOF {
		rs.eof = true
		return n > 0, nil
	}
	return true, err
}

// next returns the next byte that is not white space, without consuming it;
// ok is false at the end of the input.
func (rs *rowScanner) next() (c byte, ok bool, err error) {
	for {
		for rs.off < len(rs.buf) {
			switch c := rs.buf[rs.off]; c {
			case ' ', '\t', '\n', '\r':
				rs.off++
			default:
				return c, true, nil
			}
		}
		more, err := rs.fill()
		if err != nil || !more {
			return 0, false, err
		}
	}
}

// each calls fn with every row, and returns how many it was given. errDoubt
// means the input is not one the fast path is sure of.
func (rs *rowScanner) each(ctx context.Context, fn func(*objRow) error) (int, error) {
	if c, ok, err := rs.next(); err != nil {
		return 0, err
	} else if !ok || c != '[' {
		return 0, errDoubt
	}
	rs.off++
	c, ok, err := rs.next()
	if err != nil {
		return 0, err
	}
	if ok && c == ']' {
		rs.off++
		return 0, rs.end()
	}
	for {
		if err := ctx.Err(); err != nil {
			return rs.n, err
		}
		if !ok || c != '{' {
			return rs.n, errDoubt
		}
		raw, err := rs.row()
		if err != nil {
			return rs.n, err
		}
		obj, valid := splitObject(raw)
		if !valid {
			return rs.n, errDoubt
		}
		rs.n++
		if err := fn(&obj); err != nil {
			return rs.n - 1, err
		}
		if c, ok, err = rs.next(); err != nil {
			return rs.n, err
		}
		switch {
		case ok && c == ',':
			rs.off++
			if c, ok, err = rs.next(); err != nil {
				return rs.n, err
			}
		case ok && c == ']':
			rs.off++
			return rs.n, rs.end()
		default:
			return rs.n, errDoubt
		}
	}
}

// end checks that nothing but white space follows the array.
func (rs *rowScanner) end() error {
	_, ok, err := rs.next()
	if err != nil {
		return err
	}
	if ok {
		return errDoubt
	}
	return nil
}

// row returns a copy of the object that starts at buf[off], and consumes it.
// It tracks strings and nesting as jsonGuard does, and doubts a row as soon
// as it comes near one of the guard's limits, so that the guard's own error
// is what the fallback reports.
func (rs *rowScanner) row() ([]byte, error) {
	depth, inStr, esc, strLen := 0, false, false, 0
	i := rs.off
	for {
		for ; i < len(rs.buf); i++ {
			c := rs.buf[i]
			if inStr {
				switch {
				case esc:
					esc = false
				case c == '\\':
					esc = true
				case c == '"':
					inStr = false
				}
				if strLen++; strLen >= rs.lim.MaxJSONString {
					return nil, errDoubt
				}
				continue
			}
			switch c {
			case '"':
				inStr, strLen = true, 0
			case '[', '{':
				// depth+1 is the guard's depth (it counts the top array).
				if depth++; depth+1 >= rs.lim.MaxJSONDepth {
					return nil, errDoubt
				}
			case ']', '}':
				if depth--; depth == 0 {
					if int64(i+1-rs.off) > rs.lim.MaxRowBytes {
						return nil, errDoubt
					}
					row := append([]byte(nil), rs.buf[rs.off:i+1]...)
					rs.off = i + 1
					return row, nil
				}
			}
		}
		if int64(i-rs.off) >= rs.lim.MaxRowBytes {
			return nil, errDoubt
		}
		i -= rs.off // fill moves the unconsumed bytes to the front
		more, err := rs.fill()
		if err != nil {
			return nil, err
		}
		if !more {
			return nil, errDoubt // cut off: the decoder names the end of the file
		}
		i += rs.off
	}
}

// splitObject splits a JSON object into its keys and raw values as
// json.Unmarshal into an objRow does (the last of duplicate keys wins, values
// without their surrounding space); false when b is not valid JSON or has a
// key the fast path does not unquote.
func splitObject(b []byte) (objRow, bool) {
	obj := objRow{}
	i := skipSpace(b, 1)
	if i < len(b) && b[i] == '}' {
		return obj, skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		end := scanString(b, i+1)
		if end < 0 {
			return nil, false
		}
		key, ok := plainKey(b[i+1 : end-1])
		if !ok {
			// Escapes or non-ASCII: encoding/json's own unquoting, which
			// also replaces invalid UTF-8 as it does.
			if json.Unmarshal(b[i:end], &key) != nil {
				return nil, false
			}
		}
		if i = skipSpace(b, end); i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = skipSpace(b, i+1)
		v := scanValue(b, i, 1)
		if v < 0 {
			return nil, false
		}
		obj[key] = json.RawMessage(b[i:v:v])
		if i = skipSpace(b, v); i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case '}':
			return obj, i+1 == len(b)
		case ',':
			i = skipSpace(b, i+1)
		default:
			return nil, false
		}
	}
}

// plainKey returns a key's contents as they are when they need no
// unquoting: no escape and ASCII only.
func plainKey(b []byte) (string, bool) {
	for _, c := range b {
		if c == '\\' || c >= 0x80 {
			return "", false
		}
	}
	return string(b), true
}
