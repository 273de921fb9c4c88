package secret

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Argon2Params are argon2id parameters.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
	SaltLen uint32
}

// DefaultArgon2 is OWASP's argon2id recommendation (19 MiB, t=2, p=1): about 17 ms
// per hash on a 2-core machine, so logins stay cheap while offline guessing does not.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}

// ErrMismatch is returned when a password does not match its hash.
var ErrMismatch = errors.New("secret: password does not match")

// Hasher hashes and verifies passwords (and other low-entropy secrets such as
// backup codes). New hashes are argon2id PHC strings; verification accepts any
// argon2id parameters and bcrypt ($2a$, $2b$, $2y$), as Endurain stored them.
// At most Concurrency hashes run at once, so a burst of logins cannot exhaust
// memory; callers wait, honouring their context.
type Hasher struct {
	params Argon2Params
	sem    chan struct{}
	dummy  string
}

// NewHasher returns a Hasher with the given parameters and concurrency bound.
func NewHasher(p Argon2Params, concurrency int) *Hasher {
	if concurrency < 1 {
		concurrency = 1
	}
	h := &Hasher{params: p, sem: make(chan struct{}, concurrency)}
	h.dummy = h.encode(make([]byte, p.SaltLen), argon2.IDKey([]byte("dummy"), make([]byte, p.SaltLen), p.Time, p.Memory, p.Threads, p.KeyLen))
	return h
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.sem }

// Hash returns an argon2id PHC string for password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	salt := make([]byte, h.params.SaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	return h.encode(salt, key), nil
}

func (h *Hasher) encode(salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.params.Memory, h.params.Time, h.params.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify checks password against hash. It returns ErrMismatch on a wrong password,
// another error for an unreadable hash, and reports whether the hash should be
// replaced because it uses other parameters or another algorithm.
func (h *Hasher) Verify(ctx context.Context, hash, password string) (needsRehash bool, err error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	switch {
	case strings.HasPrefix(hash, "$argon2id$"):
		p, salt, key, err := decodeArgon2(hash)
		if err != nil {
			return false, err
		}
		got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
		if subtle.ConstantTimeCompare(got, key) != 1 {
			return false, ErrMismatch
		}
		return p.Memory != h.params.Memory || p.Time != h.params.Time || p.Threads != h.params.Threads ||
			uint32(len(key)) != h.params.KeyLen || uint32(len(salt)) != h.params.SaltLen, nil
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)); err != nil {
			if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) || errors.Is(err, bcrypt.ErrPasswordTooLong) {
				return false, ErrMismatch
			}
			return false, fmt.Errorf("bcrypt: %w", err)
		}
		return true, nil
	default:
		return false, errors.New("secret: unknown password hash format")
	}
}

// VerifyDummy does the work of one verification against a fixed hash and always
// reports a mismatch, so an unknown user costs the same time as a wrong password.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	if _, err := h.Verify(ctx, h.dummy, password); err != nil && !errors.Is(err, ErrMismatch) {
		return err
	}
	return ErrMismatch
}

// decodeArgon2 parses "$argon2id$v=19$m=65536,t=3,p=4$<salt>$<key>". Parameters are
// bounded so that a hash read from an import or a database cannot make one
// verification take gigabytes.
func decodeArgon2(s string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(s, "$")
	if len(parts) != 6 {
		return p, nil, nil, errors.New("secret: malformed argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errors.New("secret: unsupported argon2 version")
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil {
		return p, nil, nil, errors.New("secret: malformed argon2id parameters")
	}
	if p.Memory == 0 || p.Memory > 1<<20 || p.Time == 0 || p.Time > 16 || threads == 0 || threads > 64 {
		return p, nil, nil, errors.New("secret: argon2id parameters out of range")
	}
	p.Threads = uint8(threads)
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, errors.New("secret: malformed argon2id salt")
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, errors.New("secret: malformed argon2id key")
	}
	return p, salt, key, nil
}
