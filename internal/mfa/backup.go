package mfa

import (
	"crypto/rand"
	"strings"
)

// Backup codes: BackupCodeCount codes of BackupCodeLength Crockford base32
// characters (50 bits each), shown as XXXXX-XXXXX.
const (
	BackupCodeCount  = 10
	BackupCodeLength = 10
)

// crockford is Crockford's base32 alphabet: no I, L, O or U, so codes read aloud
// or copied by hand survive.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewBackupCodes returns n fresh codes formatted as XXXXX-XXXXX.
func NewBackupCodes(n int) []string {
	codes := make([]string, n)
	for i := range codes {
		codes[i] = newBackupCode()
	}
	return codes
}

func newBackupCode() string {
	// 32 symbols divide 256, so taking each byte mod 32 has no bias.
	raw := make([]byte, BackupCodeLength)
	rand.Read(raw)
	var b strings.Builder
	for i, c := range raw {
		if i == BackupCodeLength/2 {
			b.WriteByte('-')
		}
		b.WriteByte(crockford[c%32])
	}
	return b.String()
}

// NormalizeBackupCode turns what a user typed into the canonical form that is
// hashed: upper case, no hyphens or spaces, O read as 0 and I or L as 1. It
// reports false when the result is not a well-formed code.
func NormalizeBackupCode(s string) (string, bool) {
	if len(s) > 64 { // bounds the work on hostile input
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch r {
		case '-', ' ', '\t':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > 0x7f || !strings.ContainsRune(crockford, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != BackupCodeLength {
		return "", false
	}
	return b.String(), true
}
