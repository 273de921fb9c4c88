package httpapitest

import (
	"net/http"
	"strings"
	"testing"
)

// The contract check must fail on each kind of drift between a handler and
// the document, or the suite's answers prove nothing.
func TestContract_ReportsDrift(t *testing.T) {
	const doc = `{
	  "paths": {
	    "/api/v1/things/{thing_id}": {"get": {"responses": {
	      "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
	      "404": {"content": {"application/json": {"schema": {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}}}},
	      "default": {"content": {"application/json": {"schema": {}}}}}}},
	    "/api/v1/things/special": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"type": "null"}}}}}}},
	    "/api/v1/empty": {"delete": {"responses": {"204": {"description": "No Content"}}}}
	  },
	  "components": {"schemas": {"Thing": {"type": "object", "required": ["id", "tags"], "properties": {
	    "id": {"type": "integer"},
	    "tags": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
	    "kind": {"type": "string", "enum": ["a", "b"]}}}}}
	}`
	var c contract
	if err := c.parse(strings.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	jsonHdr := http.Header{"Content-Type": {"application/json"}}
	cases := []struct {
		name, method, path string
		status             int
		hdr                http.Header
		body               string
		want               string // "" when the answer matches
	}{
		{"matches", "GET", "/api/v1/things/7", 200, jsonHdr, `{"id": 7, "tags": ["x"], "kind": "a"}`, ""},
		{"null slice", "GET", "/api/v1/things/7", 200, jsonHdr, `{"id": 7, "tags": null}`, ""},
		{"literal path wins", "GET", "/api/v1/things/special", 200, jsonHdr, `null`, ""},
		{"server error", "GET", "/api/v1/things/7", 500, jsonHdr, `{"detail": "x"}`, ""},
		{"undocumented route", "GET", "/api/v1/activities/1", 404, jsonHdr, `{}`, ""},
		{"no content", "DELETE", "/api/v1/empty", 204, http.Header{}, ``, ""},
		{"undocumented status", "GET", "/api/v1/things/7", 409, jsonHdr, `{"detail": "x"}`, "status 409 is not documented"},
		{"extra property", "GET", "/api/v1/things/7", 200, jsonHdr, `{"id": 7, "tags": [], "secret": "s"}`, `property "secret" is not documented`},
		{"missing property", "GET", "/api/v1/things/7", 200, jsonHdr, `{"id": 7}`, `required property "tags" is missing`},
		{"float for integer", "GET", "/api/v1/things/7", 200, jsonHdr, `{"id": 7.5, "tags": []}`, "where an integer is documented"},
		{"wrong item", "GET", "/api/v1/things/7", 200, jsonHdr, `{"id": 7, "tags": [1]}`, "matches none of the alternatives"},
		{"outside enum", "GET", "/api/v1/things/7", 200, jsonHdr, `{"id": 7, "tags": [], "kind": "c"}`, "is not one of"},
		{"null body", "GET", "/api/v1/things/7", 404, jsonHdr, `null`, "where an object is documented"},
		{"not JSON", "GET", "/api/v1/things/7", 200, http.Header{"Content-Type": {"text/html"}}, `<p>`, "where JSON is documented"},
		{"body where none", "DELETE", "/api/v1/empty", 204, jsonHdr, `null`, "none is documented"},
	}
	for _, tc := range cases {
		got := strings.Join(c.check(tc.method, tc.path, tc.status, tc.hdr, []byte(tc.body)), "; ")
		switch {
		case tc.want == "" && got != "":
			t.Errorf("%s: want no problem, got %q", tc.name, got)
		case tc.want != "" && !strings.Contains(got, tc.want):
			t.Errorf("%s: want a problem containing %q, got %q", tc.name, tc.want, got)
		}
	}
}
