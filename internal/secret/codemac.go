package secret

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// codeMACPrefix starts every CodeMAC string, so callers can tell these hashes
// from password-hasher (argon2id) ones stored in the same column.
const codeMACPrefix = "hs1."

// IsCodeMAC reports whether stored was made by CodeMAC.
func IsCodeMAC(stored string) bool { return strings.HasPrefix(stored, codeMACPrefix) }

// CodeMAC returns a keyed hash of a random one-time code (a backup code), bound
// to binding (for example "backup_codes:7"): "hs1.<key id>.<base64url(HMAC-SHA-256)>".
//
// Such codes carry enough entropy that a slow password hash buys nothing a
// secret key does not: without the master key a copy of the database cannot be
// searched at all, and with it the key, not the hash, is what protects. One
// HMAC costs microseconds, so making and checking codes cannot crowd sign-ins
// off the password hasher. The key is derived from the primary master key; the
// key id lets codes made under an older key keep verifying while that key stays
// in the keyring (a MAC cannot be re-keyed without the code, so rotation does not
// rewrite these: see `trailpass keys rotate`).
func (k *Keyring) CodeMAC(code, binding string) string {
	return codeMACPrefix + k.primary + "." + base64.RawURLEncoding.EncodeToString(codeMAC(k.macKeys[k.primary], code, binding))
}

// CheckCodeMAC reports whether stored is CodeMAC(code, binding) under any key of
// the keyring, comparing in constant time. A malformed string or an unknown key
// id is a mismatch.
func (k *Keyring) CheckCodeMAC(stored, code, binding string) bool {
	rest, ok := strings.CutPrefix(stored, codeMACPrefix)
	if !ok {
		return false
	}
	id, enc, ok := strings.Cut(rest, ".")
	if !ok {
		return false
	}
	key, ok := k.macKeys[id]
	if !ok {
		return false
	}
	want, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(codeMAC(key, code, binding), want) == 1
}

// PrimaryCodeMACPrefix is how every CodeMAC made now begins; a stored hash
// without it was made under an older key (or by the password hasher).
func (k *Keyring) PrimaryCodeMACPrefix() string { return codeMACPrefix + k.primary + "." }

func codeMAC(key []byte, code, binding string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(binding))
	m.Write([]byte{0}) // neither part can run into the other
	m.Write([]byte(code))
	return m.Sum(nil)
}
