package mfa

import (
	"regexp"
	"testing"
)

func TestNewBackupCodes(t *testing.T) {
	codes := NewBackupCodes(BackupCodeCount)
	if len(codes) != 10 {
		t.Fatalf("got %d codes", len(codes))
	}
	shape := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if !shape.MatchString(c) {
			t.Errorf("code %q is not XXXXX-XXXXX in Crockford base32", c)
		}
		if seen[c] {
			t.Errorf("duplicate code %q", c)
		}
		seen[c] = true
	}
}

func TestNormalizeBackupCode(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"ABCDE-FGH12", "ABCDEFGH12", true},
		{"abcde-fgh12", "ABCDEFGH12", true},
		{" abcde fgh12 ", "ABCDEFGH12", true},
		{"OOOOO-IIIII", "0000011111", true},
		{"lllll-ooooo", "1111100000", true},
		{"A-B-C-D-E-F-G-H-1-2", "ABCDEFGH12", true},
		{"ABCDE-FGH1", "", false},   // too short
		{"ABCDE-FGH123", "", false}, // too long
		{"ABCDE-FGH1U", "", false},  // U is not in the alphabet
		{"ABCDE-FGH1É", "", false},
		{"123456", "", false},
	} {
		got, ok := NormalizeBackupCode(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeBackupCode(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
