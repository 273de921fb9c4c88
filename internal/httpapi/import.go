package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/trailpass/trailpass/internal/account"
	"github.com/trailpass/trailpass/internal/auth"
	"github.com/trailpass/trailpass/internal/portability"
)

// spoolUpload streams the multipart field "file" into a temporary file under
// the importer's byte limit; the caller removes it.
func (s *Server) spoolUpload(w http.ResponseWriter, r *http.Request) (*os.File, int64, error) {
	limit := s.Importer.UploadLimit()
	r.Body = http.MaxBytesReader(w, r.Body, limit+1<<20) // room for the multipart framing
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, 0, account.Errorf(account.EINVALID, "Expected a multipart/form-data upload with a file field")
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, 0, account.Errorf(account.EINVALID, "No file field in the upload")
		} else if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, 0, account.Errorf(account.ETOOLARGE, "File too large during profile data import. The limit is %d bytes.", limit)
			} else if account.ErrorCode(err) == account.ETIMEOUT {
				return nil, 0, err
			}
			return nil, 0, account.Errorf(account.EINVALID, "The upload is not valid multipart/form-data")
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		f, n, err := portability.Spool(part, s.Importer.TempDir, limit)
		part.Close()
		var mbe *http.MaxBytesError
		if err != nil && errors.As(err, &mbe) {
			err = account.Errorf(account.ETOOLARGE, "File too large during profile data import. The limit is %d bytes.", limit)
		}
		return f, n, err
	}
}

// handleImport is POST /api/v1/profile/import: Endurain's import, all or
// nothing; ?dry_run=true only validates, ?async=true answers 202 with a job id.
func (s *Server) handleImport(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	q := r.URL.Query()
	opts := portability.Options{DryRun: q.Get("dry_run") == "true"}
	f, size, err := s.spoolUpload(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if q.Get("async") == "true" {
		id, err := s.Importer.Start(r.Context(), p.User.ID, f, size, opts) // owns f from here
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusAccepted, jobIDBody{JobID: id})
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	res, err := s.Importer.Import(r.Context(), p.User.ID, f, size, opts)
	if err != nil {
		if s.Metrics != nil {
			s.Metrics.ImportFailed()
		}
		s.writeError(w, r, err)
		return
	}
	if s.Metrics != nil && !res.DryRun {
		s.Metrics.ImportDone(res.Bytes, res.Duration)
	}
	s.Logger.InfoContext(r.Context(), "import finished", "user_id", p.User.ID, "bytes", res.Bytes,
		"duration", res.Duration, "lock_held", res.LockHeld, "dry_run", res.DryRun)
	writeJSON(w, http.StatusOK, res)
}

// handleImportJob is GET /api/v1/profile/import/jobs/{id}.
func (s *Server) handleImportJob(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if j, ok := s.importJob(w, r, p); ok {
		writeJSON(w, http.StatusOK, j)
	}
}

// importJob finds the caller's job named in the path, answering 404 itself when
// there is none (another user's job included).
func (s *Server) importJob(w http.ResponseWriter, r *http.Request, p *auth.Principal) (*portability.Job, bool) {
	j, err := s.Importer.Job(r.Context(), p.User.ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	return j, true
}

// importPoll is how often the events stream looks at the job row; the row is
// the source of truth so any instance can serve the stream.
const importPoll = 300 * time.Millisecond

// handleImportEvents is GET /api/v1/profile/import/jobs/{id}/events: the job
// as server-sent events, one "progress" event per change and a final "done".
func (s *Server) handleImportEvents(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	j, ok := s.importJob(w, r, p)
	if !ok {
		return
	}
	rc := http.NewResponseController(w)
	// The stream may outlive the server's write timeout.
	rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	last := ""
	tick := time.NewTicker(importPoll)
	defer tick.Stop()
	for {
		body, _ := json.Marshal(j)
		if string(body) != last {
			last = string(body)
			event := "progress"
			if j.Status == portability.JobSucceeded || j.Status == portability.JobFailed {
				event = "done"
			}
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, body)
			if err := rc.Flush(); err != nil {
				return
			}
			if event == "done" {
				return
			}
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
		var err error
		if j, err = s.Importer.Job(r.Context(), p.User.ID, j.ID); err != nil {
			return
		}
	}
}
