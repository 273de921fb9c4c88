package app_test

import (
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailpass/trailpass/internal/app"
	"github.com/trailpass/trailpass/internal/blob"
	"github.com/trailpass/trailpass/internal/secret"
	"github.com/trailpass/trailpass/internal/testkit"
)

// A missing required value is named, not skipped.
func TestNew_NamesMissingDependencies(t *testing.T) {
	_, err := app.New(app.Deps{Now: time.Now})
	if err == nil {
		t.Fatal("New without dependencies worked")
	}
	for _, name := range []string{"Store", "Blobs", "Keyring", "Hasher", "Logger", "PublicURL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	if strings.Contains(err.Error(), "Now") {
		t.Errorf("error %q names Now, which was given", err)
	}
}

// Every service and the server come out built, and the server serves them.
func TestNew_BuildsEveryService(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, b testkit.Backend) {
		st := testkit.OpenStore(t, b)
		blobs, err := blob.OpenDir(filepath.Join(b.DataDir, "files"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { blobs.Close() })
		kr, err := secret.NewKeyring(make([]byte, secret.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := url.Parse("http://localhost:8080")
		a, err := app.New(app.Deps{Store: st, Blobs: blobs, Keyring: kr, Hasher: app.NewHasher(), Now: time.Now,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PublicURL: pub})
		if err != nil {
			t.Fatal(err)
		}
		if a.PasskeysErr != nil {
			t.Fatalf("passkeys for localhost: %v", a.PasskeysErr)
		}
		v := reflect.ValueOf(a).Elem()
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if f.Name == "PasskeysErr" {
				continue
			}
			if v.Field(i).IsNil() {
				t.Errorf("App.%s is nil", f.Name)
			}
		}
		s := reflect.ValueOf(a.Server).Elem()
		for i := 0; i < s.NumField(); i++ {
			f := s.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			switch f.Name {
			case "Fallback", "Metrics": // optional by design (Deps)
				continue
			}
			if k := s.Field(i).Kind(); (k == reflect.Pointer || k == reflect.Interface || k == reflect.Func) && s.Field(i).IsNil() {
				t.Errorf("httpapi.Server.%s is not wired", f.Name)
			}
		}
	})
}
