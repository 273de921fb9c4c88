package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/trailpass/trailpass/internal/account"
)

// bodyChunk is the least a client must send per UploadStall: about 2 KiB/s at
// the default, far below any real connection, far above a slow-loris trickle.
const bodyChunk = 64 << 10

// bodyDeadline gives every request with a body a read deadline that moves
// forward while data arrives (bodyChunk per UploadStall) and is lifted once
// the body is read: uploads of any size on any real link succeed, and a
// client that stalls mid-body loses the connection instead of holding it for
// ever. A server-wide ReadTimeout could not do both, and would cancel
// long-running handlers.
func (s *Server) bodyDeadline(next http.Handler) http.Handler {
	stall := s.Config.UploadStall
	if stall <= 0 {
		stall = 30 * time.Second
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		// Not every ResponseWriter supports deadlines (tests' recorders).
		if rc.SetReadDeadline(time.Now().Add(stall)) == nil {
			r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, stall: stall}
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody renews the connection's read deadline as data arrives.
type deadlineBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	stall time.Duration
	since int // bytes since the last renewal
	done  bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.done {
		return n, err
	}
	b.since += n
	if err == io.EOF {
		// Read whole: no deadline, so nothing cancels a long handler later.
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	} else if errors.Is(err, os.ErrDeadlineExceeded) {
		b.done = true
		return n, fmt.Errorf("%w: %w", account.Errorf(account.ETIMEOUT,
			"The upload stalled: no data for %s; the connection was closed.", b.stall), err)
	} else if b.since >= bodyChunk {
		b.since = 0
		b.rc.SetReadDeadline(time.Now().Add(b.stall))
	}
	return n, err
}
