package config_test

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailpass/trailpass/internal/config"
)

func load(args []string, env map[string]string) (*config.Config, error) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return config.Load(fs, args, func(k string) string { return env[k] })
}

func TestLoad_Defaults(t *testing.T) {
	c, err := load(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":8080" || c.DataDir != "./data" || c.DatabaseURL != "" || c.MFAIssuer != "Trailpass" {
		t.Fatalf("defaults: %+v", c)
	}
	if c.PublicURL.String() != "http://localhost:8080" || c.Secure() {
		t.Fatalf("public URL = %s", c.PublicURL)
	}
	if c.SecretKey != nil {
		t.Fatal("secret key set without configuration")
	}
}

func TestLoad_FlagsWinOverEnv(t *testing.T) {
	c, err := load([]string{"--listen", "127.0.0.1:9000"}, map[string]string{"TRAILPASS_LISTEN": ":7000", "TRAILPASS_PUBLIC_URL": "https://fit.example.org/"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9000" || c.PublicURL.String() != "https://fit.example.org" || !c.Secure() {
		t.Fatalf("%+v", c)
	}
}

func TestLoad_SecretFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	os.WriteFile(path, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	c, err := load(nil, map[string]string{"TRAILPASS_SECRET_KEY_FILE": path, "TRAILPASS_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SecretKey) != 32 || c.SecretKey[0] != 0xab {
		t.Fatalf("key = %x", c.SecretKey)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[1].String() != "192.0.2.7/32" {
		t.Fatalf("proxies = %v", c.TrustedProxies)
	}
}

// Each bad setting fails with one message naming its variable.
func TestLoad_Errors(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"TRAILPASS_DATABASE_URL": "mysql://x/y"}, "TRAILPASS_DATABASE_URL: unknown database URL scheme"},
		{map[string]string{"TRAILPASS_SECRET_KEY_FILE": "/nonexistent/key"}, "TRAILPASS_SECRET_KEY_FILE: cannot read /nonexistent/key"},
		{map[string]string{"TRAILPASS_LISTEN": "not-an-address"}, "TRAILPASS_LISTEN: "},
		{map[string]string{"TRAILPASS_LISTEN": ":99999"}, "TRAILPASS_LISTEN: "},
		{map[string]string{"TRAILPASS_SECRET_KEY": "short"}, "TRAILPASS_SECRET_KEY: "},
		{map[string]string{"TRAILPASS_PUBLIC_URL": "ftp://x"}, "TRAILPASS_PUBLIC_URL: "},
		{map[string]string{"TRAILPASS_TRUSTED_PROXIES": "nope"}, "TRAILPASS_TRUSTED_PROXIES: "},
		{map[string]string{"TRAILPASS_LOG_LEVEL": "loud"}, "TRAILPASS_LOG_LEVEL: "},
		{map[string]string{"TRAILPASS_MAX_IMPORT_BYTES": "4GiB"}, "TRAILPASS_MAX_IMPORT_BYTES: "},
		{map[string]string{"TRAILPASS_MAX_IMPORT_BYTES": "1000"}, "TRAILPASS_MAX_IMPORT_BYTES: "},
	} {
		_, err := load(nil, tc.env)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("env %v: err = %v, want one line starting %q", tc.env, err, tc.want)
		}
	}
}

// The import upload limit defaults to 4 GiB; the variable and its flag set it.
func TestLoad_MaxImportBytes(t *testing.T) {
	c, err := load(nil, nil)
	if err != nil || c.MaxImportBytes != 4<<30 {
		t.Fatalf("default: %v %v", c, err)
	}
	c, err = load(nil, map[string]string{"TRAILPASS_MAX_IMPORT_BYTES": "104857600"})
	if err != nil || c.MaxImportBytes != 100<<20 {
		t.Fatalf("variable: %v %v", c, err)
	}
	c, err = load([]string{"--max-import-bytes", "2097152"}, map[string]string{"TRAILPASS_MAX_IMPORT_BYTES": "104857600"})
	if err != nil || c.MaxImportBytes != 2<<20 {
		t.Fatalf("flag: %v %v", c, err)
	}
}
