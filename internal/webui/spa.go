package webui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"time"
)

// spa serves a prebuilt single-page app from a directory.
type spa struct {
	own     *ownPages
	fsys    fs.FS
	envJS   []byte
	started time.Time
}

// newSPA opens cfg.WebDir through os.Root, so no path (nor a symlink in the
// directory) can reach a file outside it.
func newSPA(cfg Config, own *ownPages) (*spa, error) {
	root, err := os.OpenRoot(cfg.WebDir)
	if err != nil {
		return nil, fmt.Errorf("open web dir: %w", err)
	}
	fsys := root.FS()
	if _, err := fs.Stat(fsys, "index.html"); err != nil {
		return nil, fmt.Errorf("web dir has no index.html: %w", err)
	}
	host := ""
	if cfg.PublicURL != nil {
		host = strings.TrimSuffix(cfg.PublicURL.String(), "/")
	}
	// json.Marshal escapes <, > and & too, so the value cannot end the script.
	q, err := json.Marshal(host)
	if err != nil {
		return nil, err
	}
	env := []byte("window.env = { ENDURAIN_HOST: " + string(q) + " };\n")
	return &spa{own: own, fsys: fsys, envJS: env, started: time.Now()}, nil
}

// ServeHTTP serves trailpass's own pages, a file, the generated env.js, or
// index.html for client routes.
func (s *spa) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, OwnPrefix) {
		s.own.ServeHTTP(w, r)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeNotFound(w)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSONStatus(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "env.js" {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "env.js", s.started, bytes.NewReader(s.envJS))
		return
	}
	if name != "" && name != "index.html" {
		if st, err := fs.Stat(s.fsys, name); err == nil && st.Mode().IsRegular() {
			s.serveFile(w, r, name, st)
			return
		}
		// A last segment with a dot names a file: a missing asset is a 404 the
		// app can see, not the index page parsed as JavaScript.
		if strings.Contains(path.Base(name), ".") {
			writeNotFound(w)
			return
		}
	}
	st, err := fs.Stat(s.fsys, "index.html")
	if err != nil {
		writeJSONStatus(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	// The index must be revalidated so a new deployment's asset names load.
	w.Header().Set("Cache-Control", "no-cache")
	s.serveFile(w, r, "index.html", st)
}

func (s *spa) serveFile(w http.ResponseWriter, r *http.Request, name string, st fs.FileInfo) {
	f, err := s.fsys.Open(name)
	if err != nil {
		writeNotFound(w)
		return
	}
	defer f.Close()
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		writeJSONStatus(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	http.ServeContent(w, r, name, st.ModTime(), rs)
}

func writeJSONStatus(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(struct {
		Detail string `json:"detail"`
	}{detail})
	w.Write(append(b, '\n'))
}
