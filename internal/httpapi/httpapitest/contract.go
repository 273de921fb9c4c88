package httpapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// contract checks answers against the OpenAPI document the server itself
// serves (GET /api/openapi.json), which is generated from the handlers' wire
// types. Every answer a test receives through Client.Do is checked, so a
// handler that answers with a status or a shape its route does not document
// fails the test that saw it. Answers are checked strictly: an object may
// hold no property its schema does not name, since every answer is encoded
// from a Go struct.
type contract struct {
	once   sync.Once
	err    error
	routes []contractRoute
	defs   map[string]any
}

type contractRoute struct {
	method string
	segs   []string // "{x}" for a parameter
	op     map[string]any
}

func (c *contract) load(baseURL string) error {
	c.once.Do(func() {
		resp, err := http.Get(baseURL + "/api/openapi.json")
		if err != nil {
			c.err = err
			return
		}
		defer resp.Body.Close()
		c.err = c.parse(resp.Body)
	})
	return c.err
}

// parse reads an OpenAPI document's operations and schemas.
func (c *contract) parse(r io.Reader) error {
	var doc struct {
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return fmt.Errorf("openapi document: %w", err)
	}
	c.defs = doc.Components.Schemas
	for path, item := range doc.Paths {
		for method, op := range item {
			c.routes = append(c.routes, contractRoute{method: strings.ToUpper(method), segs: strings.Split(path, "/"), op: op})
		}
	}
	return nil
}

// operation finds the documented operation serving method and path; a
// literal segment beats a parameter, as ServeMux's most specific pattern wins.
func (c *contract) operation(method, path string) map[string]any {
	segs := strings.Split(path, "/")
	var best map[string]any
	bestScore := -1
	for _, r := range c.routes {
		if r.method != method || len(r.segs) != len(segs) {
			continue
		}
		score := 0
		for i, s := range r.segs {
			if s == segs[i] {
				score++
			} else if !strings.HasPrefix(s, "{") || segs[i] == "" {
				score = -1
				break
			}
		}
		if score > bestScore {
			best, bestScore = r.op, score
		}
	}
	return best
}

// check returns what is wrong with an answer to method path, or nil. Routes
// the document does not describe (the unserved Endurain modules, pages) are
// not checked.
func (c *contract) check(method, rawPath string, status int, header http.Header, body []byte) []string {
	path, _, _ := strings.Cut(rawPath, "?")
	op := c.operation(method, path)
	if op == nil {
		return nil
	}
	responses, _ := op["responses"].(map[string]any)
	resp, ok := responses[strconv.Itoa(status)].(map[string]any)
	if !ok && status >= 500 {
		resp, ok = responses["default"].(map[string]any)
	}
	if !ok {
		return []string{fmt.Sprintf("status %d is not documented", status)}
	}
	content, _ := resp["content"].(map[string]any)
	jsonDoc, documented := content["application/json"].(map[string]any)
	ct, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	switch {
	case ct != "application/json":
		if documented && len(body) > 0 {
			return []string{fmt.Sprintf("answered %q where JSON is documented", ct)}
		}
		return nil
	case !documented:
		if content != nil {
			return []string{"answered JSON where another content type is documented"}
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return nil
		}
		return []string{"answered a JSON body where none is documented"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil && err != io.EOF {
		return []string{"body is not JSON: " + err.Error()}
	}
	var problems []string
	c.validate(v, jsonDoc["schema"], "body", &problems)
	return problems
}

// validate checks v against the subset of JSON Schema the generator writes.
func (c *contract) validate(v any, schema any, at string, problems *[]string) {
	s, _ := schema.(map[string]any)
	if ref, ok := s["$ref"].(string); ok {
		c.validate(v, c.defs[strings.TrimPrefix(ref, "#/components/schemas/")], at, problems)
		return
	}
	if alts, ok := s["anyOf"].([]any); ok {
		for _, alt := range alts {
			var p []string
			if c.validate(v, alt, at, &p); len(p) == 0 {
				return
			}
		}
		*problems = append(*problems, fmt.Sprintf("%s: %s matches none of the alternatives", at, short(v)))
		return
	}
	bad := func(format string, args ...any) {
		*problems = append(*problems, at+": "+fmt.Sprintf(format, args...))
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			found = found || e == v
		}
		if !found {
			bad("%s is not one of %v", short(v), enum)
		}
	}
	typ, _ := s["type"].(string)
	switch typ {
	case "":
		return // any value
	case "null":
		if v != nil {
			bad("%s where null is documented", short(v))
		}
	case "string":
		if _, ok := v.(string); !ok {
			bad("%s where a string is documented", short(v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("%s where a boolean is documented", short(v))
		}
	case "integer":
		if n, ok := v.(json.Number); !ok || strings.ContainsAny(n.String(), ".eE") {
			bad("%s where an integer is documented", short(v))
		}
	case "number":
		if _, ok := v.(json.Number); !ok {
			bad("%s where a number is documented", short(v))
		}
	case "array":
		items, ok := v.([]any)
		if !ok {
			bad("%s where an array is documented", short(v))
			return
		}
		for i, item := range items {
			c.validate(item, s["items"], fmt.Sprintf("%s[%d]", at, i), problems)
		}
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			bad("%s where an object is documented", short(v))
			return
		}
		props, _ := s["properties"].(map[string]any)
		extra, open := s["additionalProperties"]
		for _, name := range sortedKeys(obj) {
			switch sub, named := props[name]; {
			case named:
				c.validate(obj[name], sub, at+"."+name, problems)
			case open:
				c.validate(obj[name], extra, at+"."+name, problems)
			default:
				bad("property %q is not documented", name)
			}
		}
		req, _ := s["required"].([]any)
		for _, name := range req {
			if _, ok := obj[name.(string)]; !ok {
				bad("required property %q is missing", name)
			}
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}
