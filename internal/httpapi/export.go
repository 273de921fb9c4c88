package httpapi

import (
	"net/http"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/portability"
)

// exportWriteTimeout cuts off a client that stops reading. It is renewed on every
// write, so a slow but steady download is never an error.
const exportWriteTimeout = time.Minute

// streamWriter sends the response headers on the first byte, so an export that
// fails before writing anything can still answer with a JSON error, and renews
// the write deadline on every write.
type streamWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	header  func()
	started bool
	n       int64
}

func (sw *streamWriter) Write(p []byte) (int, error) {
	if !sw.started {
		sw.started = true
		sw.header()
	}
	sw.rc.SetWriteDeadline(time.Now().Add(exportWriteTimeout))
	n, err := sw.w.Write(p)
	sw.n += int64(n)
	return n, err
}

// handleExport streams everything the caller owns as Endurain's ZIP layout:
// GET /api/v1/profile/export. Memory stays flat whatever the size. If anything
// fails after the first byte, the connection is aborted, so the client can never
// take a cut archive for a complete one.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	rc := http.NewResponseController(w)
	sw := &streamWriter{w: w, rc: rc, header: func() {
		h := w.Header()
		h.Set("Content-Type", portability.ContentType)
		h.Set("Content-Disposition", "attachment; filename="+portability.FileName(p.User.ID))
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	}}
	start := time.Now()
	_, err := s.Exporter.Export(r.Context(), p.User.ID, sw)
	if err != nil {
		if s.Metrics != nil {
			s.Metrics.ExportFailed()
		}
		if !sw.started {
			s.writeError(w, r, err)
			return
		}
		s.Logger.ErrorContext(r.Context(), "export aborted mid-stream", "err", err, "user_id", p.User.ID, "bytes", sw.n, "request_id", requestIDFrom(r.Context()))
		panic(http.ErrAbortHandler)
	}
	if !sw.started { // an empty archive still has bytes; this is defensive
		sw.header()
	}
	if s.Metrics != nil {
		s.Metrics.ExportDone(sw.n, time.Since(start))
	}
	dev := s.device(r)
	uid := p.User.ID
	e := &account.SecurityEvent{UserID: &uid, Type: account.EventExport, IPAddress: dev.IP, UserAgent: dev.UserAgent,
		Detail: map[string]any{"bytes": sw.n, "duration_ms": time.Since(start).Milliseconds()}, CreatedAt: s.Now()}
	if err := s.Events.RecordSecurityEvent(r.Context(), e); err != nil {
		s.Logger.WarnContext(r.Context(), "record security event", "err", err)
	}
}

// handleSummary tells what the caller's account holds, before an export:
// GET /api/v1/profile/summary.
func (s *Server) handleSummary(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	sum, err := s.Profiles.Summary(r.Context(), p.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sum)
}
