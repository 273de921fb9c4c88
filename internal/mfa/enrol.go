package mfa

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// SecretSize is the size of a TOTP key: 160 bits, as RFC 4226 §4 recommends and
// pyotp's random_base32() produces.
const SecretSize = 20

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a new random TOTP key as 32 base32 characters without padding.
func NewSecret() string {
	key := make([]byte, SecretSize)
	rand.Read(key) // never fails (crypto/rand, Go 1.24+)
	return b32.EncodeToString(key)
}

// DecodeSecret decodes a base32 TOTP secret as authenticator apps accept it: case,
// spaces and padding do not matter.
func DecodeSecret(s string) ([]byte, error) {
	s = strings.ToUpper(strings.ReplaceAll(strings.TrimRight(s, "="), " ", ""))
	key, err := b32.DecodeString(s)
	if err != nil || len(key) == 0 {
		return nil, errors.New("mfa: malformed base32 secret")
	}
	return key, nil
}

// GroupSecret splits a secret into groups of four characters for display.
func GroupSecret(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// OTPAuthURI returns the Key Uri Format provisioning URI for secret. The label is
// "issuer:account" with each part escaped; the parameters are stated explicitly
// rather than left to each app's defaults.
func OTPAuthURI(issuer, accountName, secret string) string {
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", issuer)
	q.Set("algorithm", SHA1.String())
	q.Set("digits", fmt.Sprint(Digits))
	q.Set("period", fmt.Sprint(int(Period.Seconds())))
	label := url.PathEscape(issuer) + ":" + url.PathEscape(accountName)
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// QRCodeDataURI renders text as a PNG QR code (with its four-module quiet zone)
// in a data URI, as Endurain returns it.
func QRCodeDataURI(text string) (string, error) {
	png, err := qrcode.Encode(text, qrcode.Medium, 256)
	if err != nil {
		return "", fmt.Errorf("encode qr code: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png), nil
}
