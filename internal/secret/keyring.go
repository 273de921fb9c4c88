package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size of a master key in bytes.
const KeySize = 32

// ErrDecrypt is returned when a ciphertext cannot be opened: wrong key, wrong
// binding, or tampering.
var ErrDecrypt = errors.New("secret: cannot decrypt")

// Keyring encrypts secrets at rest with AES-256-GCM. Every ciphertext names the key
// that sealed it, so old keys can stay for reading while a new one writes.
type Keyring struct {
	primary string
	aeads   map[string]cipher.AEAD
	macKeys map[string][]byte // per key id: the key for CodeMAC
}

// NewKeyring builds a keyring whose first key encrypts and whose every key decrypts.
func NewKeyring(primary []byte, older ...[]byte) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}, macKeys: map[string][]byte{}}
	for i, key := range append([][]byte{primary}, older...) {
		if len(key) != KeySize {
			return nil, fmt.Errorf("secret: key must be %d bytes, got %d", KeySize, len(key))
		}
		id := KeyID(key)
		// The master key is never used directly: each purpose of it gets its own key.
		sub, err := hkdf.Key(sha256.New, key, nil, "trailpass aead v1", KeySize)
		if err != nil {
			return nil, fmt.Errorf("derive key: %w", err)
		}
		block, err := aes.NewCipher(sub)
		if err != nil {
			return nil, fmt.Errorf("aes: %w", err)
		}
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, fmt.Errorf("gcm: %w", err)
		}
		k.aeads[id] = aead
		if k.macKeys[id], err = hkdf.Key(sha256.New, key, nil, "trailpass code mac v1", KeySize); err != nil {
			return nil, fmt.Errorf("derive key: %w", err)
		}
		if i == 0 {
			k.primary = id
		}
	}
	return k, nil
}

// KeyID names a key without revealing it: the first 4 bytes of its SHA-256, in hex.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:4])
}

// PrimaryKeyID returns the id of the key new ciphertexts are sealed with.
func (k *Keyring) PrimaryKeyID() string { return k.primary }

// Seal encrypts plaintext bound to binding (for example "mfa_factors.secret:7"), so
// a ciphertext copied to another row or purpose does not open. The result is text:
// "v1.<key id>.<base64url(nonce|ciphertext)>".
func (k *Keyring) Seal(plaintext []byte, binding string) string {
	ct := k.aeads[k.primary].Seal(nil, nil, plaintext, []byte(binding))
	return "v1." + k.primary + "." + base64.RawURLEncoding.EncodeToString(ct)
}

// Open decrypts what Seal produced with the same binding. Returns ErrDecrypt when
// the key is unknown, the binding differs or the ciphertext was altered.
func (k *Keyring) Open(ciphertext, binding string) ([]byte, error) {
	parts := strings.SplitN(ciphertext, ".", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		return nil, ErrDecrypt
	}
	aead, ok := k.aeads[parts[1]]
	if !ok {
		return nil, fmt.Errorf("%w: unknown key id %q", ErrDecrypt, parts[1])
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, ErrDecrypt
	}
	pt, err := aead.Open(nil, nil, raw, []byte(binding))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// ParseKey decodes a master key given as 64 hex characters or as standard or URL
// base64 of 32 bytes. Surrounding whitespace is ignored.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("secret: key must be %d bytes as 64 hex characters or base64", KeySize)
}

// LoadOrCreateKeyFile reads the master key at path, or, when the file does not
// exist, generates one and writes it with mode 0600. created reports which.
func LoadOrCreateKeyFile(path string) (key []byte, created bool, err error) {
	data, err := os.ReadFile(path)
	if err == nil {
		key, err := ParseKey(string(data))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return key, false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	key = make([]byte, KeySize)
	rand.Read(key)
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, err
		}
		// Explicitly: the umask must not decide who reads the key's folder.
		if err := os.Chmod(filepath.Dir(path), 0o700); err != nil {
			return nil, false, err
		}
	}
	// Write a temporary file and hard-link it into place: two instances starting at
	// once on a shared directory must neither write different keys nor read a
	// half-written file.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-key-*")
	if err != nil {
		return nil, false, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, false, err
	}
	if _, err := tmp.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		tmp.Close()
		return nil, false, err
	}
	if err := tmp.Close(); err != nil {
		return nil, false, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		key, _, err := LoadOrCreateKeyFile(path)
		return key, false, err
	} else if err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// NewKeyHex returns a new random master key as 64 hex characters.
func NewKeyHex() string {
	key := make([]byte, KeySize)
	rand.Read(key)
	return hex.EncodeToString(key)
}

// Reseal returns ciphertext sealed with the primary key, opening it with
// whichever key sealed it. changed is false (and the ciphertext returned as is)
// when the primary key sealed it already.
func (k *Keyring) Reseal(ciphertext, binding string) (out string, changed bool, err error) {
	if strings.HasPrefix(ciphertext, "v1."+k.primary+".") {
		return ciphertext, false, nil
	}
	pt, err := k.Open(ciphertext, binding)
	if err != nil {
		return "", false, err
	}
	return k.Seal(pt, binding), true, nil
}

// keyCheckText is the known plaintext of a key check value.
const keyCheckText = "trailpass key check v1"

// KeyCheck returns a key check value: a known text sealed with the primary key.
// Stored once per database, it lets a later start tell whether its keys are
// the ones the database's secrets were sealed with.
func (k *Keyring) KeyCheck() string { return k.Seal([]byte(keyCheckText), "key-check") }

// VerifyKeyCheck reports whether one of the keyring's keys opens check.
func (k *Keyring) VerifyKeyCheck(check string) bool {
	pt, err := k.Open(check, "key-check")
	return err == nil && string(pt) == keyCheckText
}
