package mfa

import (
	"crypto/rand"
	"strings"
)

// Backup codes: BackupCodeCount codes of BackupCodeLength characters from
// backupAlphabet (40 bits each), shown as XXXX-XXXX, as later Endurain makes them.
const (
	BackupCodeCount  = 10
	BackupCodeLength = 8
)

// backupAlphabet leaves out 0, O, 1 and I, which are easy to misread.
const backupAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// Codes issued before the switch to Endurain's format: 10 Crockford base32
// characters shown as XXXXX-XXXXX, hashed with the password hasher. They keep
// working until used or regenerated.
const (
	legacyCodeLength = 10
	crockford        = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// NewBackupCodes returns n fresh codes formatted as XXXX-XXXX.
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
		b.WriteByte(backupAlphabet[c%32])
	}
	return b.String()
}

// NormalizeBackupCode turns what a user typed into the canonical form that is
// hashed: upper case, without dashes or spaces. It accepts the current format
// (8 characters) and the legacy one (10 Crockford characters, where O reads as
// 0 and I or L as 1), reports which (legacy) and false when the input is
// neither.
func NormalizeBackupCode(s string) (norm string, legacy, ok bool) {
	if len(s) > 64 { // bounds the work on hostile input
		return "", false, false
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch r {
		case '-', ' ', '\t':
			continue
		}
		if r > 0x7f {
			return "", false, false
		}
		b.WriteRune(r)
	}
	norm = b.String()
	switch len(norm) {
	case BackupCodeLength:
		for i := 0; i < len(norm); i++ {
			if strings.IndexByte(backupAlphabet, norm[i]) < 0 {
				return "", false, false
			}
		}
		return norm, false, true
	case legacyCodeLength:
		out := []byte(norm)
		for i, c := range out {
			switch c {
			case 'O':
				c = '0'
			case 'I', 'L':
				c = '1'
			}
			if strings.IndexByte(crockford, c) < 0 {
				return "", false, false
			}
			out[i] = c
		}
		return string(out), true, true
	}
	return "", false, false
}
