package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// Authenticator is a software WebAuthn authenticator for tests: ES256 keys,
// "none" attestation, discoverable credentials. It answers the options the
// server sends ({"publicKey": …}) with the PublicKeyCredential JSON a browser's
// toJSON() gives, as if its pages were served from Origin.
type Authenticator struct {
	Origin string
	// UserVerified sets the UV flag: the user proved themselves to the device.
	UserVerified bool
	AAGUID       [16]byte
	Credentials  []*SoftCredential
}

// SoftCredential is one key pair the authenticator holds. Tests may change
// SignCount to play a cloned authenticator.
type SoftCredential struct {
	ID         []byte
	Key        *ecdsa.PrivateKey
	RPID       string
	UserHandle []byte
	SignCount  uint32
}

// NewAuthenticator returns a user-verifying authenticator for pages of origin.
func NewAuthenticator(origin string) *Authenticator {
	return &Authenticator{Origin: origin, UserVerified: true}
}

var b64 = base64.RawURLEncoding

type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		Exclude []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
		Allow []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

func (a *Authenticator) flags(extra byte) byte {
	f := byte(0x01) | extra // UP
	if a.UserVerified {
		f |= 0x04
	}
	return f
}

// Create answers navigator.credentials.create() options with a new credential.
func (a *Authenticator) Create(optionsJSON []byte) ([]byte, *SoftCredential, error) {
	var o options
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, nil, fmt.Errorf("creation options: %w", err)
	}
	pk := o.PublicKey
	for _, ex := range pk.Exclude {
		for _, c := range a.Credentials {
			if ex.ID == b64.EncodeToString(c.ID) {
				return nil, nil, errors.New("InvalidStateError: a credential of this authenticator is excluded")
			}
		}
	}
	handle, err := b64.DecodeString(pk.User.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("user id: %w", err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c := &SoftCredential{ID: make([]byte, 32), Key: key, RPID: pk.RP.ID, UserHandle: handle}
	rand.Read(c.ID)
	pub, _ := key.PublicKey.ECDH()
	raw := pub.Bytes() // 0x04 || x || y
	var cose cbor
	cose.head(5, 5)
	cose.int(1).int(2)  // kty: EC2
	cose.int(3).int(-7) // alg: ES256
	cose.int(-1).int(1) // crv: P-256
	cose.int(-2).bytes(raw[1:33])
	cose.int(-3).bytes(raw[33:65])
	rpHash := sha256.Sum256([]byte(c.RPID))
	auth := append([]byte{}, rpHash[:]...)
	auth = append(auth, a.flags(0x40)) // AT
	auth = binary.BigEndian.AppendUint32(auth, c.SignCount)
	auth = append(auth, a.AAGUID[:]...)
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(c.ID)))
	auth = append(auth, c.ID...)
	auth = append(auth, cose...)
	var att cbor
	att.head(5, 3)
	att.text("fmt").text("none")
	att.text("attStmt").head(5, 0)
	att.text("authData").bytes(auth)
	out, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(a.clientData("webauthn.create", pk.Challenge)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal"},
		},
	})
	a.Credentials = append(a.Credentials, c)
	return out, c, nil
}

// Get answers navigator.credentials.get() options with an assertion by c, or
// when c is nil by the first held credential the options allow.
func (a *Authenticator) Get(optionsJSON []byte, c *SoftCredential) ([]byte, error) {
	var o options
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		return nil, fmt.Errorf("request options: %w", err)
	}
	pk := o.PublicKey
	if c == nil {
		for _, held := range a.Credentials {
			if held.RPID != pk.RPID {
				continue
			}
			allowed := len(pk.Allow) == 0
			for _, al := range pk.Allow {
				allowed = allowed || al.ID == b64.EncodeToString(held.ID)
			}
			if allowed {
				c = held
				break
			}
		}
		if c == nil {
			return nil, errors.New("NotAllowedError: no credential for this request")
		}
	}
	c.SignCount++
	return a.Sign(c, pk.RPID, pk.Challenge, c.SignCount), nil
}

// Sign makes an assertion by c over challenge for rpID with the given counter,
// whatever the options: tests use it to send what a real authenticator would not.
func (a *Authenticator) Sign(c *SoftCredential, rpID, challenge string, count uint32) []byte {
	rpHash := sha256.Sum256([]byte(rpID))
	auth := append([]byte{}, rpHash[:]...)
	auth = append(auth, a.flags(0))
	auth = binary.BigEndian.AppendUint32(auth, count)
	cd := a.clientData("webauthn.get", challenge)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), cdHash[:]...))
	sig, _ := ecdsa.SignASN1(rand.Reader, c.Key, digest[:])
	out, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(auth),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(c.UserHandle),
		},
	})
	return out
}

// cbor is the little of CBOR (RFC 8949) attestation needs: definite-length
// maps, integers, byte and text strings.
type cbor []byte

func (c *cbor) head(major byte, n uint64) *cbor {
	m := major << 5
	switch {
	case n < 24:
		*c = append(*c, m|byte(n))
	case n < 1<<8:
		*c = append(*c, m|24, byte(n))
	case n < 1<<16:
		*c = binary.BigEndian.AppendUint16(append(*c, m|25), uint16(n))
	default:
		*c = binary.BigEndian.AppendUint32(append(*c, m|26), uint32(n))
	}
	return c
}

func (c *cbor) int(v int64) *cbor {
	if v < 0 {
		return c.head(1, uint64(-1-v))
	}
	return c.head(0, uint64(v))
}

func (c *cbor) bytes(b []byte) *cbor {
	c.head(2, uint64(len(b)))
	*c = append(*c, b...)
	return c
}

func (c *cbor) text(s string) *cbor {
	c.head(3, uint64(len(s)))
	*c = append(*c, s...)
	return c
}
