package mfa

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"hash"
	"time"
)

// Algorithm is the HMAC hash of a TOTP code.
type Algorithm int

// The algorithms RFC 6238 allows. Authenticator apps mostly assume SHA1.
const (
	SHA1 Algorithm = iota
	SHA256
	SHA512
)

func (a Algorithm) new() func() hash.Hash {
	switch a {
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	default:
		return sha1.New
	}
}

// String returns the name used in otpauth URIs.
func (a Algorithm) String() string {
	switch a {
	case SHA256:
		return "SHA256"
	case SHA512:
		return "SHA512"
	default:
		return "SHA1"
	}
}

// The TOTP parameters trailpass issues: what every authenticator app supports.
const (
	Digits = 6
	Period = 30 * time.Second
	// Skew is how many steps either side of now a code may come from (RFC 6238
	// §5.2 allows one step of transmission delay).
	Skew = 1
)

var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}

// Step returns the RFC 6238 time step of t for a period (T0 = 0).
func Step(t time.Time, period time.Duration) int64 {
	return t.Unix() / int64(period/time.Second)
}

// CodeAt returns the HOTP value (RFC 4226 §5.3) of key at counter step, with
// digits digits (1 to 9) and leading zeros kept.
func CodeAt(key []byte, step int64, alg Algorithm, digits int) string {
	mac := hmac.New(alg.new(), key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	v := bin % pow10[digits]
	out := make([]byte, digits)
	for i := digits - 1; i >= 0; i-- {
		out[i] = byte('0' + v%10)
		v /= 10
	}
	return string(out)
}

// Code returns the TOTP code of key at time t.
func Code(key []byte, t time.Time, alg Algorithm, digits int, period time.Duration) string {
	return CodeAt(key, Step(t, period), alg, digits)
}

// isTOTPInput reports whether s has the only shape that counts as a TOTP code:
// exactly six ASCII digits.
func isTOTPInput(s string) bool {
	if len(s) != Digits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Match checks a code against key at time t with trailpass's parameters (SHA1,
// 6 digits, 30 s) and returns the step it matched. Only ^[0-9]{6}$ is accepted.
// Steps t-1, t and t+1 are all compared, in constant time, so the timing does not
// tell which one matched; when several match, the latest wins, so that the replay
// guard (which only moves forward) is as strict as it can be.
func Match(key []byte, code string, t time.Time) (step int64, ok bool) {
	if !isTOTPInput(code) {
		return 0, false
	}
	now := Step(t, Period)
	for s := now - Skew; s <= now+Skew; s++ {
		if subtle.ConstantTimeCompare([]byte(CodeAt(key, s, SHA1, Digits)), []byte(code)) == 1 {
			step, ok = s, true
		}
	}
	return step, ok
}
