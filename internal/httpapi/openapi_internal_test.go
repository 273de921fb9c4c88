package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/metrics"
)

// The document lists exactly the routes the server registers: a route added
// without documentation, or documentation left for a removed route, fails here.
func TestOpenAPI_MatchesRegisteredRoutes(t *testing.T) {
	s := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: metrics.New(), ServeMetrics: true}
	s.Handler()
	var served []string
	for _, p := range s.patterns {
		if strings.Contains(p, " ") { // method-less patterns are catch-alls, not API routes
			served = append(served, p)
		}
	}
	sort.Strings(served)
	documented := docPatterns(s.apiOps())
	for _, p := range served {
		if !slices.Contains(documented, p) {
			t.Errorf("route %q is served but not documented in apiOps", p)
		}
	}
	for _, p := range documented {
		if !slices.Contains(served, p) {
			t.Errorf("route %q is documented but not served", p)
		}
	}
}

func TestOpenAPI_Document(t *testing.T) {
	s := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || len(doc.Paths) < 40 {
		t.Fatalf("openapi %q with %d paths", doc.OpenAPI, len(doc.Paths))
	}
	me := doc.Components.Schemas["UserMe"]
	props, _ := me["properties"].(map[string]any)
	for _, want := range []string{"username", "mfa_enabled", "has_password", "hide_activity_gear"} {
		if _, ok := props[want]; !ok {
			t.Errorf("UserMe schema lacks %s", want)
		}
	}
	for _, bad := range []string{"password", "mfa_secret"} {
		if _, ok := props[bad]; ok {
			t.Errorf("UserMe schema has %s", bad)
		}
	}
	put := doc.Paths["/api/v1/profile"]["put"]
	if put == nil || put["requestBody"] == nil || put["responses"].(map[string]any)["422"] == nil {
		t.Fatalf("PUT /profile: %v", put)
	}
	// Every reference points at a defined schema.
	raw, _ := json.Marshal(doc)
	for _, m := range strings.Split(string(raw), `"$ref":"#/components/schemas/`)[1:] {
		name := m[:strings.IndexByte(m, '"')]
		if doc.Components.Schemas[name] == nil {
			t.Errorf("dangling $ref %s", name)
		}
	}
}

// TestOpenAPI_Write writes the document as served to $TRAILPASS_OPENAPI_OUT, so
// .ci/run can lint it with a tool nobody here wrote (@redocly/cli).
func TestOpenAPI_Write(t *testing.T) {
	s := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/openapi.json", nil))
	if rec.Code != http.StatusOK || !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("GET /api/openapi.json: %d, valid JSON %v", rec.Code, json.Valid(rec.Body.Bytes()))
	}
	if out := os.Getenv("TRAILPASS_OPENAPI_OUT"); out != "" {
		if err := os.WriteFile(out, rec.Body.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Every operation names who may call it and, apart from a few reads that cannot
// fail on the client's side, a client error (redocly.yaml leaves this check to
// this test so the exceptions are named).
func TestOpenAPI_ClientErrors(t *testing.T) {
	noClientError := []string{"GET /healthz", "GET /readyz", "GET /api/openapi.json", "GET /api/v1/public/idp", "GET /api/v1/public/server_settings"}
	for _, op := range (&Server{}).apiOps() {
		name := op.Method + " " + op.Path
		if _, ok := security[op.Auth]; !ok {
			t.Errorf("%s: Auth %q has no security requirement", name, op.Auth)
		}
		has4xx := slices.ContainsFunc(op.Errors, func(c int) bool { return c >= 400 && c < 500 })
		if has4xx == slices.Contains(noClientError, name) {
			t.Errorf("%s: lists a 4xx = %v, want %v", name, has4xx, !has4xx)
		}
	}
}

// A handler whose signature does not fit its route's Auth would serve a
// protected route without authentication, or never reach its handler: the
// server refuses to start instead.
func TestGuard_RefusesAHandlerThatDoesNotFitItsAuth(t *testing.T) {
	s := &Server{}
	public := func(http.ResponseWriter, *http.Request) {}
	for _, op := range []apiOp{
		{Method: "GET", Path: "/x", Auth: "admin", Handle: public},
		{Method: "GET", Path: "/x", Auth: "user", Handle: public},
		{Method: "GET", Path: "/x", Auth: "", Handle: s.handleMFAStatus},
		{Method: "GET", Path: "/x", Auth: "admin", Handle: s.handleProfile},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Auth %q with a %T handler: no panic", op.Auth, op.Handle)
				}
			}()
			s.guard(op)
		}()
	}
	if s.guard(apiOp{Method: "GET", Path: "/x", Auth: "refresh", Handle: public}) == nil {
		t.Error("a public handler for a refresh route was refused")
	}
}
