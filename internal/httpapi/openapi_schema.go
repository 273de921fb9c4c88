package httpapi

import (
	"encoding/json"
	"path"
	"reflect"
	"strings"
	"time"
)

// schemaSet turns Go types into JSON Schemas (OpenAPI 3.1 uses JSON Schema
// 2020-12), collecting named structs under components/schemas so each is written
// once and referenced.
type schemaSet struct {
	defs  map[string]any
	types map[string]reflect.Type // the Go type behind each name in defs
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
)

// of returns the schema of v's type (v may be a value or a reflect.Type); an
// anyOf lists the types an answer may take, jsonNull is the JSON null.
func (s *schemaSet) of(v any) any {
	switch v := v.(type) {
	case anyOf:
		alts := make([]any, len(v))
		for i, a := range v {
			alts[i] = s.of(a)
		}
		return map[string]any{"anyOf": alts}
	case jsonNull:
		return map[string]any{"type": "null"}
	}
	t, ok := v.(reflect.Type)
	if !ok {
		t = reflect.TypeOf(v)
	}
	return s.schema(t)
}

func (s *schemaSet) schema(t reflect.Type) any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Implements(marshalerType) && t.Kind() != reflect.Struct:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return orNull(s.schema(t.Elem()))
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	// A nil slice or map is encoded as null.
	case reflect.Slice:
		return orNull(map[string]any{"type": "array", "items": s.schema(t.Elem())})
	case reflect.Array:
		return map[string]any{"type": "array", "items": s.schema(t.Elem())}
	case reflect.Map:
		return orNull(map[string]any{"type": "object", "additionalProperties": s.schema(t.Elem())})
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := t.Name()
		if name == "" {
			return s.object(t)
		}
		if other, taken := s.types[name]; taken && other != t {
			// Two packages' types of one name (signup.Result and
			// portability.Result): the later one is qualified.
			pkg := path.Base(t.PkgPath())
			name = strings.ToUpper(pkg[:1]) + pkg[1:] + name
		}
		if _, done := s.defs[name]; !done {
			s.types[name] = t
			s.defs[name] = nil // placeholder: stops recursion
			s.defs[name] = s.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// object describes a struct's JSON fields, following encoding/json's rules for
// tags, "-", omitempty and embedded structs.
func (s *schemaSet) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = s.schema(f.Type)
			if enum := f.Tag.Get("enum"); enum != "" {
				// Stable names a client may switch on; documented with the field.
				props[name] = map[string]any{"type": "string", "enum": strings.Split(enum, ",")}
			}
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
				required = append(required, name)
			}
		}
	}
	walk(t)
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

func orNull(schema any) map[string]any {
	return map[string]any{"anyOf": []any{schema, map[string]any{"type": "null"}}}
}
