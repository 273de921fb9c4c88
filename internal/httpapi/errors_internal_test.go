package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A request its client abandoned is recorded as 499, not logged as a server
// error; a cancellation the client did not cause stays a 500.
func TestWriteError_ClientClosed(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	s.writeError(w, httptest.NewRequest("GET", "/api/v1/profile/export", nil).WithContext(ctx), fmt.Errorf("export: %w", context.Canceled))
	if w.Code != statusClientClosed || logs.Len() != 0 {
		t.Errorf("abandoned request: status %d, logs %q", w.Code, logs.String())
	}
	w = httptest.NewRecorder()
	s.writeError(w, httptest.NewRequest("GET", "/api/v1/profile/export", nil), fmt.Errorf("export: %w", context.Canceled))
	if w.Code != http.StatusInternalServerError || !strings.Contains(logs.String(), "request failed") {
		t.Errorf("cancelled inside a live request: status %d, logs %q", w.Code, logs.String())
	}
}
