package mfa

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// RFC 6238 Appendix B: 8-digit codes with the RFC's ASCII seeds, one per algorithm
// (the seed lengths match each hash's output size, as the RFC's reference code uses).
func TestCode_RFC6238Vectors(t *testing.T) {
	seeds := map[Algorithm][]byte{
		SHA1:   []byte("12345678901234567890"),
		SHA256: []byte("12345678901234567890123456789012"),
		SHA512: []byte("1234567890123456789012345678901234567890123456789012345678901234"),
	}
	vectors := []struct {
		unix int64
		want map[Algorithm]string
	}{
		{59, map[Algorithm]string{SHA1: "94287082", SHA256: "46119246", SHA512: "90693936"}},
		{1111111109, map[Algorithm]string{SHA1: "07081804", SHA256: "68084774", SHA512: "25091201"}},
		{1111111111, map[Algorithm]string{SHA1: "14050471", SHA256: "67062674", SHA512: "99943326"}},
		{1234567890, map[Algorithm]string{SHA1: "89005924", SHA256: "91819424", SHA512: "93441116"}},
		{2000000000, map[Algorithm]string{SHA1: "69279037", SHA256: "90698825", SHA512: "38618901"}},
		{20000000000, map[Algorithm]string{SHA1: "65353130", SHA256: "77737706", SHA512: "47863826"}},
	}
	for _, v := range vectors {
		for alg, want := range v.want {
			if got := Code(seeds[alg], time.Unix(v.unix, 0), alg, 8, Period); got != want {
				t.Errorf("%s at %d: got %s, want %s", alg, v.unix, got, want)
			}
		}
	}
}

// Vectors from an independent implementation, for a secret shaped like pyotp's
// random_base32() (32 base32 characters, 160 bits). Made with Debian's oathtool
// 2.6.7: oathtool --totp[=sha256] -b FVTEOEVBDX7IC6HWZESASUWWMDIU4CCM --now '<instant>'.
func TestCode_OathtoolVectors(t *testing.T) {
	const sec = "FVTEOEVBDX7IC6HWZESASUWWMDIU4CCM"
	key, err := DecodeSecret(sec)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != SecretSize {
		t.Fatalf("key length %d, want %d", len(key), SecretSize)
	}
	for _, v := range []struct {
		at   string
		alg  Algorithm
		want string
	}{
		{"2026-01-01T00:00:00Z", SHA1, "609650"},
		{"2026-06-01T12:00:00Z", SHA1, "068922"},
		{"2033-05-18T03:33:20Z", SHA1, "307782"},
		{"2026-01-01T00:00:00Z", SHA256, "483316"},
	} {
		at, _ := time.Parse(time.RFC3339, v.at)
		if got := Code(key, at, v.alg, Digits, Period); got != v.want {
			t.Errorf("%s %s: got %s, want %s", v.alg, v.at, got, v.want)
		}
	}
	// The same secret typed lower-case and grouped, as people copy it, decodes alike.
	key2, err := DecodeSecret(strings.ToLower(GroupSecret(sec)))
	if err != nil || string(key2) != string(key) {
		t.Fatalf("grouped lower-case secret decodes differently: %v", err)
	}
}

func TestMatch(t *testing.T) {
	key, _ := DecodeSecret("FVTEOEVBDX7IC6HWZESASUWWMDIU4CCM")
	at := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	now := Step(at, Period)
	for _, tc := range []struct {
		name  string
		code  string
		step  int64
		match bool
	}{
		{"Current", "609650", now, true},
		{"Previous", CodeAt(key, now-1, SHA1, 6), now - 1, true},
		{"Next", CodeAt(key, now+1, SHA1, 6), now + 1, true},
		{"TwoBack", CodeAt(key, now-2, SHA1, 6), 0, false},
		{"TwoAhead", CodeAt(key, now+2, SHA1, 6), 0, false},
		{"Spaces", " 609650", 0, false},
		{"FiveDigits", "60965", 0, false},
		{"SevenDigits", "6096500", 0, false},
		{"FullWidthDigits", "６０９６５０", 0, false},
		{"Wrong", "000000", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step, ok := Match(key, tc.code, at)
			if ok != tc.match || step != tc.step {
				t.Fatalf("Match(%q) = %d, %v; want %d, %v", tc.code, step, ok, tc.step, tc.match)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if len(a) != 32 || a == b {
		t.Fatalf("secrets %q, %q: want 32 distinct characters each", a, b)
	}
	if strings.Trim(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Fatalf("secret %q has characters outside RFC 4648 base32", a)
	}
	if g := GroupSecret("ABCDEFGHIJ"); g != "ABCD EFGH IJ" {
		t.Fatalf("GroupSecret = %q", g)
	}
}

func TestOTPAuthURI(t *testing.T) {
	got := OTPAuthURI("Trail Pass", "ann@example.com", "JBSWY3DPEHPK3PXP")
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Trail Pass:ann@example.com" {
		t.Fatalf("uri %q: scheme %q host %q path %q", got, u.Scheme, u.Host, u.Path)
	}
	if !strings.HasPrefix(got, "otpauth://totp/Trail%20Pass:ann@example.com?") {
		t.Fatalf("label not escaped as expected: %q", got)
	}
	q := u.Query()
	for k, want := range map[string]string{"secret": "JBSWY3DPEHPK3PXP", "issuer": "Trail Pass", "algorithm": "SHA1", "digits": "6", "period": "30"} {
		if q.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, q.Get(k), want)
		}
	}
	// A colon or question mark in a username must not break the label.
	if u, err := url.Parse(OTPAuthURI("T", "a:b?c", "S")); err != nil || u.Path != "/T:a:b?c" || u.Query().Get("secret") != "S" {
		t.Fatalf("awkward username: %v %+v", err, u)
	}
}

func TestQRCodeDataURI(t *testing.T) {
	got, err := QRCodeDataURI("otpauth://totp/T:u?secret=S")
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "data:image/png;base64,iVBORw0KGgo" // the PNG signature, base64
	if !strings.HasPrefix(got, prefix) {
		t.Fatalf("not a PNG data URI: %.40s", got)
	}
}
