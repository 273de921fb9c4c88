package portability

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
)

// checkValues holds every field of a decoded row to what both databases can
// store, so bad input is a 400 and never a database error: integers within
// INTEGER (32 bits), no NUL character in text or JSON (PostgreSQL refuses it).
// Decimal ranges are checked when they are decoded.
func checkValues(row any) error {
	v := reflect.ValueOf(row)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		name := v.Type().Field(i).Tag.Get("json")
		switch x := f.Interface().(type) {
		case *int:
			if x != nil && (*x > math.MaxInt32 || *x < math.MinInt32) {
				return &fieldError{fmt.Sprintf("field %q is out of range.", name)}
			}
		case *string:
			if x != nil && strings.IndexByte(*x, 0) >= 0 {
				return &fieldError{fmt.Sprintf("field %q contains a NUL character.", name)}
			}
		case rawJSON:
			if bytes.Contains(x, []byte(`\u0000`)) {
				return &fieldError{fmt.Sprintf("field %q contains a NUL character.", name)}
			}
		}
	}
	return nil
}
