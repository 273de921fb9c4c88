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
	shape := regexp.MustCompile(`^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if !shape.MatchString(c) {
			t.Errorf("code %q is not XXXX-XXXX from 23456789ABCDEFGHJKLMNPQRSTUVWXYZ", c)
		}
		if seen[c] {
			t.Errorf("duplicate code %q", c)
		}
		seen[c] = true
	}
}

func TestNormalizeBackupCode(t *testing.T) {
	for _, tc := range []struct {
		in, want   string
		legacy, ok bool
	}{
		{"ABCD-EF23", "ABCDEF23", false, true},
		{"abcd-ef23", "ABCDEF23", false, true},
		{"abcdef23", "ABCDEF23", false, true},
		{" abcd ef23 ", "ABCDEF23", false, true},
		{"LLUU-ZZ99", "LLUUZZ99", false, true}, // L and U are in the new alphabet
		{"ABCD-EF20", "", false, false},        // 0 is not
		{"ABCD-EF21", "", false, false},        // nor 1
		{"ABCD-EFOI", "", false, false},        // nor O, I
		{"ABCD-EF2", "", false, false},
		{"ABCD-EF234", "", false, false}, // 9 characters
		// Legacy codes.
		{"ABCDE-FGH12", "ABCDEFGH12", true, true},
		{"abcde-fgh12", "ABCDEFGH12", true, true},
		{"OOOOO-IIIII", "0000011111", true, true},
		{"lllll-ooooo", "1111100000", true, true},
		{"A-B-C-D-E-F-G-H-1-2", "ABCDEFGH12", true, true},
		{"ABCDE-FGH1U", "", false, false}, // U is not Crockford
		{"ABCDE-FGH1É", "", false, false},
		{"ABCDE-FGH123", "", false, false},
		{"123456", "", false, false},
	} {
		got, legacy, ok := NormalizeBackupCode(tc.in)
		if got != tc.want || legacy != tc.legacy || ok != tc.ok {
			t.Errorf("NormalizeBackupCode(%q) = %q, %v, %v; want %q, %v, %v", tc.in, got, legacy, ok, tc.want, tc.legacy, tc.ok)
		}
	}
}
